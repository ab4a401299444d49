// Shared parts of the fault tests: a steady request load through nginx whose failures are counted,
// one printed line per figure, and the controller as a real child process (`autoserve run`) that
// a test may kill -9. Everything a test starts is labelled and removed by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { splitHaltMarkers } from '../../src/controllers/containers/halt-marker.js';
import type { ReplicaFacts } from '../../src/core/replica.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { stopTestNginx } from '../e2e/harness.js';
import { createDockerTestEnv, type DockerTestEnv } from '../support/docker-test-env.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { httpGet } from '../support/http-get.js';
import { LoadGenerator, type LoadResult } from '../support/load-generator.js';

/** A bounded load through nginx (default 20 req/s for at most 2 min); stop() returns its totals. */
export function steadyLoad(lbPort: number, host: string, ratePerSec = 20): { stop(): Promise<LoadResult> } {
  const generator = new LoadGenerator({ port: lbPort, hostHeader: host, ratePerSec, durationMs: 120_000, timeoutMs: 5_000, isOk: (s) => s === 200 });
  const running = generator.run();
  return {
    stop: async () => {
      generator.stop();
      return running;
    },
  };
}

/** Prints one figure line: `[chaos] name: key=value ...` (the failure-modes table quotes them). */
export function figure(name: string, values: Record<string, number | string>): void {
  const text = Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v * 100) / 100 : v}`).join(' ');
  console.log(`[chaos] ${name}: ${text}`);
}

export function failuresOf(result: LoadResult): string {
  return result.failures.length === 0 ? '' : ` first failures: ${JSON.stringify(result.failures.slice(0, 3))}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const seconds = (sinceMs: number) => (Date.now() - sinceMs) / 1000;

/** The controller as a child process on temp dirs, its own instance and test label. */
export interface CliDaemon {
  env: DockerTestEnv;
  manifestsDir: string;
  stateDir: string;
  instance: string;
  lbPort: number;
  apiPort: number;
  writeManifest(file: string, text: string): Promise<void>;
  /** Starts `autoserve run` and waits until /readyz answers. */
  start(): Promise<void>;
  /** kill -9: no flush, no cleanup; app containers and nginx keep running. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  replicas(app: string): Promise<ReplicaFacts[]>;
  cleanup(): Promise<void>;
}

export async function cliDaemon(name: string, extraArgs: string[] = []): Promise<CliDaemon> {
  const env = createDockerTestEnv(name);
  const root = await mkdtemp(join(tmpdir(), `autoserve-chaos-${name}-`));
  const manifestsDir = join(root, 'manifests');
  const stateDir = join(root, 'state');
  await mkdir(manifestsDir, { recursive: true });
  const instance = env.value.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const lbPort = await freePort();
  const apiPort = await freePort();
  const runtime = new DockerRuntime({ logger: pino({ level: 'silent' }), docker: env.docker });
  let child: ChildProcess | undefined;
  const exited = () => new Promise<void>((resolve) => (child && child.exitCode === null && child.signalCode === null ? child.once('exit', () => resolve()) : resolve()));

  const daemon: CliDaemon = {
    env,
    manifestsDir,
    stateDir,
    instance,
    lbPort,
    apiPort,
    writeManifest: (file, text) => writeFile(join(manifestsDir, file), text),
    async start() {
      const args = [
        'dist/cli/main.js', 'run',
        '--manifests', manifestsDir, '--state', stateDir, '--instance', instance,
        '--lb-port', String(lbPort), '--port', String(apiPort),
        '--container-labels', JSON.stringify(env.labels),
        '--resync', '3s', '--log-level', process.env.AUTOSERVE_TEST_LOG ?? 'warn',
        ...extraArgs,
      ];
      child = spawn(process.execPath, args, { cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'inherit', 'inherit'] });
      await eventually(async () => {
        if (child!.exitCode !== null) throw new Error(`autoserve run exited with ${child!.exitCode}`);
        const res = await httpGet(apiPort, '127.0.0.1', '/readyz', 1_000);
        if (res.status !== 200) throw new Error(`readyz ${res.status}`);
      }, { timeoutMs: 30_000, intervalMs: 200 });
    },
    async kill9() {
      child?.kill('SIGKILL');
      await exited();
    },
    async stop() {
      child?.kill('SIGTERM');
      await exited();
    },
    replicas: async (app) => splitHaltMarkers(await runtime.list({ instance, app })).replicas,
    async cleanup() {
      await daemon.kill9().catch(() => undefined);
      await env.cleanup();
      await stopTestNginx(stateDir, lbPort);
      runtime.close();
      await rm(root, { recursive: true, force: true });
    },
  };
  return daemon;
}
