// Shared parts of the fault tests: a steady request load through nginx whose failures are counted,
// and the controller as a real child process (`autoserve run`, support/cli-daemon.ts) that a test
// may kill -9 and start again on the same dirs. Figures are printed by ./figures.ts. Everything a
// test starts is labelled and removed by the test.
import pino from 'pino';
import { splitHaltMarkers } from '../../src/controllers/containers/halt-marker.js';
import type { ReplicaFacts } from '../../src/core/replica.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { CliDaemon } from '../support/cli-daemon.js';
import { createDaemonDirs, type DaemonDirs } from '../support/daemon-dirs.js';
import { eventually } from '../support/eventually.js';
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

export function failuresOf(result: LoadResult): string {
  return result.failures.length === 0 ? '' : ` first failures: ${JSON.stringify(result.failures.slice(0, 3))}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const seconds = (sinceMs: number) => (Date.now() - sinceMs) / 1000;

/** `autoserve run` on temp dirs (its own instance, test label, ports), started and stopped at will on the same dirs. */
export interface RestartableDaemon extends Pick<DaemonDirs, 'env' | 'manifestsDir' | 'stateDir' | 'instance' | 'lbPort' | 'apiPort' | 'writeManifest'> {
  /** Starts `autoserve run` and waits until /readyz answers. */
  start(): Promise<void>;
  /** kill -9: no flush, no cleanup; app containers and nginx keep running. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** The app's replicas in Docker (halt markers left out). */
  replicas(app: string): Promise<ReplicaFacts[]>;
  cleanup(): Promise<void>;
}

export async function restartableDaemon(name: string, extraArgs: string[] = []): Promise<RestartableDaemon> {
  const dirs = await createDaemonDirs(name);
  const runtime = new DockerRuntime({ logger: pino({ level: 'silent' }), docker: dirs.env.docker });
  let current: CliDaemon | undefined;

  const daemon: RestartableDaemon = {
    env: dirs.env,
    manifestsDir: dirs.manifestsDir,
    stateDir: dirs.stateDir,
    instance: dirs.instance,
    lbPort: dirs.lbPort,
    apiPort: dirs.apiPort,
    writeManifest: dirs.writeManifest,
    async start() {
      const child = new CliDaemon(dirs.cliOptions({ resync: '3s', extraArgs: ['--log-level', process.env.AUTOSERVE_TEST_LOG ?? 'warn', ...extraArgs] }));
      current = child;
      await eventually(async () => {
        if (child.child.exitCode !== null) throw new Error(`autoserve run exited with ${child.child.exitCode}:\n${child.log.slice(-2000)}`);
        const res = await httpGet(dirs.apiPort, '127.0.0.1', '/readyz', 1_000);
        if (res.status !== 200) throw new Error(`readyz ${res.status}`);
      }, { timeoutMs: 30_000, intervalMs: 200 });
    },
    async kill9() {
      current?.signal('SIGKILL');
      await current?.exited;
    },
    async stop() {
      await current?.stop();
    },
    replicas: async (app) => splitHaltMarkers(await runtime.list({ instance: dirs.instance, app })).replicas,
    async cleanup() {
      await daemon.kill9().catch(() => undefined);
      await dirs.cleanup();
      runtime.close();
    },
  };
  return daemon;
}
