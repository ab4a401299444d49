// Temp manifests and state dirs, a unique instance and test label, and free ports for a daemon
// under test that runs as a process (CliDaemon). cleanup() removes its containers, stops its nginx
// master (by its verified pid: never anyone else's) and deletes the dirs.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerTestEnv, type DockerTestEnv } from './docker-test-env.js';
import { freePort } from './free-port.js';
import type { CliDaemonOptions } from './cli-daemon.js';
import pino from 'pino';
import { NginxProcess } from '../../src/controllers/routes/nginx-process.js';
import { nginxPrefixDir } from '../../src/controllers/routes/nginx-paths.js';

export interface DaemonDirs {
  root: string;
  manifestsDir: string;
  stateDir: string;
  env: DockerTestEnv;
  instance: string;
  apiPort: number;
  lbPort: number;
  /** Options for a CliDaemon on the host with these dirs, instance, labels and ports. */
  cliOptions(extra?: Partial<CliDaemonOptions>): CliDaemonOptions;
  writeManifest(file: string, text: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createDaemonDirs(name: string): Promise<DaemonDirs> {
  const env = createDockerTestEnv(name);
  const root = await mkdtemp(join(tmpdir(), `autoserve-${name}-`));
  const manifestsDir = join(root, 'manifests');
  const stateDir = join(root, 'state');
  await mkdir(manifestsDir, { recursive: true });
  const instance = env.value.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const apiPort = await freePort();
  const lbPort = await freePort();
  return {
    root,
    manifestsDir,
    stateDir,
    env,
    instance,
    apiPort,
    lbPort,
    cliOptions: (extra = {}) => ({ manifestsDir, stateDir, apiPort, lbPort, instance, containerLabels: env.labels, logFile: join(root, 'daemon.log'), ...extra }),
    writeManifest: (file, text) => writeFile(join(manifestsDir, file), text),
    async cleanup() {
      await env.cleanup().catch(() => undefined);
      await stopTestNginx(stateDir, lbPort);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Stops the test's own nginx master (it outlives the daemon on purpose). */
export async function stopTestNginx(stateDir: string, port: number): Promise<void> {
  const nginx = new NginxProcess({ prefixDir: nginxPrefixDir(stateDir), listen: { host: '127.0.0.1', port }, logger: pino({ level: 'silent' }) });
  await nginx.stop().catch(() => undefined);
}
