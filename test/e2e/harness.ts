// Starts an in-process AutoServe daemon on temp manifests/state dirs, scoped to a unique controller
// instance and test label so it never sees or prunes another run's containers.
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { resolveOptions, type DaemonOptions } from '../../src/daemon/options.js';
import type { ReplicaFacts } from '../../src/core/replica.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { createDockerTestEnv, type DockerTestEnv } from '../support/docker-test-env.js';
import { freePort } from '../support/free-port.js';
import { stopTestNginx } from '../support/daemon-dirs.js';


export interface TestDaemon {
  daemon: Daemon;
  env: DockerTestEnv;
  options: DaemonOptions;
  manifestsDir: string;
  stateDir: string;
  writeManifest(file: string, text: string): Promise<void>;
  removeManifest(file: string): Promise<void>;
  containers(app: string): Promise<ReplicaFacts[]>;
  running(app: string): Promise<ReplicaFacts[]>;
  /** Stops the daemon only (containers stay), like a controller restart. */
  stop(): Promise<void>;
  /** Starts a fresh daemon on the same dirs and instance. */
  restart(): Promise<void>;
  /** Stops the daemon and removes every container and temp dir of this test. */
  cleanup(): Promise<void>;
}

export async function startTestDaemon(
  name: string,
  overrides: Partial<DaemonOptions> = {},
  /** Where the controller's log goes (tests that read it); default stdout. */
  logStream?: NodeJS.WritableStream,
): Promise<TestDaemon> {
  const env = createDockerTestEnv(name);
  const root = await mkdtemp(join(tmpdir(), `autoserve-${name}-`));
  const manifestsDir = join(root, 'manifests');
  const stateDir = join(root, 'state');
  await import('node:fs/promises').then((fs) => fs.mkdir(manifestsDir, { recursive: true }));
  const options = resolveOptions({
    manifestsDir,
    stateDir,
    instance: env.value.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
    containerLabels: env.labels,
    debounceMs: 100,
    resyncMs: 5_000,
    lbPort: await freePort(),
    port: 0,
    logLevel: process.env.AUTOSERVE_TEST_LOG ?? 'warn',
    ...overrides,
  });
  const logger = logStream ? pino({ level: options.logLevel }, logStream) : pino({ level: options.logLevel });
  const runtime = new DockerRuntime({ logger, docker: env.docker });
  let daemon = await startDaemon(options, logger);
  let stopped = false;
  const harness: TestDaemon = {
    get daemon() {
      return daemon;
    },
    env,
    options,
    manifestsDir,
    stateDir,
    writeManifest: (file, text) => writeFile(join(manifestsDir, file), text),
    removeManifest: (file) => unlink(join(manifestsDir, file)),
    containers: (app) => runtime.list({ instance: options.instance, app }),
    running: async (app) => (await runtime.list({ instance: options.instance, app })).filter((c) => c.running),
    async stop() {
      if (!stopped) await daemon.stop();
      stopped = true;
    },
    async restart() {
      await harness.stop();
      daemon = await startDaemon(options, logger);
      stopped = false;
      await daemon.ready;
    },
    async cleanup() {
      await harness.stop().catch(() => undefined);
      await env.cleanup();
      await stopTestNginx(stateDir, options.lbPort);
      await rm(root, { recursive: true, force: true });
    },
  };
  await daemon.ready;
  return harness;
}
