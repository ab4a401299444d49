// Starts an in-process AutoServe daemon on temp manifests/state dirs, scoped to a unique controller
// instance and test label so it never sees or prunes another run's containers. By default it runs
// against the shared dockerd (runtime docker); a target can point it at a private engine instead
// (a single-node swarm on a test node: test/e2e/swarm-target.ts).
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { resolveOptions, type DaemonOptions } from '../../src/daemon/options.js';
import { defaultWorkerProcesses } from '../../src/controllers/routes/nginx-process.js';
import type { RuntimePartsOverrides } from '../../src/daemon/runtime-parts.js';
import type { ReplicaFacts } from '../../src/core/replica.js';
import { splitHaltMarkers } from '../../src/controllers/containers/halt-marker.js';
import { createDockerTestEnv, type DockerTestEnv } from '../support/docker-test-env.js';
import { freePort } from '../support/free-port.js';
import { stopTestNginx } from '../support/daemon-dirs.js';


/** Where the daemon under test runs its replicas, and how a test reaches behind AutoServe's back. */
export interface DaemonTarget {
  /** Options the target needs (e.g. runtime swarm). */
  options: Partial<DaemonOptions>;
  /** The engine (and, for a swarm, the overlay route) the daemon uses. */
  parts: RuntimePartsOverrides;
  /** Kills the process of one replica as `docker kill` does; resolves with the killed container's id. */
  kill(replica: ReplicaFacts): Promise<string>;
  /** The ids of the containers that run an app's replicas now. */
  containerIds(instance: string, app: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** The shared host dockerd, containers marked with the test's label. */
export function dockerTarget(env: DockerTestEnv): DaemonTarget {
  return {
    options: {},
    parts: { docker: env.docker },
    async kill(replica) {
      await env.docker.getContainer(replica.id).kill();
      return replica.id;
    },
    async containerIds(instance, app) {
      const running = await env.docker.listContainers({ filters: { label: [`autoserve.instance=${instance}`, `autoserve.app=${app}`] } });
      return running.map((c) => c.Id);
    },
    cleanup: async () => void (await env.cleanup()),
  };
}

export interface TestDaemon {
  daemon: Daemon;
  env: DockerTestEnv;
  options: DaemonOptions;
  manifestsDir: string;
  stateDir: string;
  writeManifest(file: string, text: string): Promise<void>;
  removeManifest(file: string): Promise<void>;
  /** The app's replicas (not the marker of a halted rollout). */
  containers(app: string): Promise<ReplicaFacts[]>;
  running(app: string): Promise<ReplicaFacts[]>;
  /** Kills one replica's process behind AutoServe's back (docker kill); resolves with the container id. */
  kill(replica: ReplicaFacts): Promise<string>;
  /** The containers running an app's replicas now (on a swarm: its tasks' containers). */
  containerIds(app: string): Promise<string[]>;
  /** The never-started containers that record a halted rollout in the runtime. */
  haltMarkers(app: string): Promise<ReplicaFacts[]>;
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
  how: {
    /** Where the controller's log goes (tests that read it); default stdout. */
    logStream?: NodeJS.WritableStream;
    /** Where its replicas run; default the shared dockerd. */
    target?: (env: DockerTestEnv) => DaemonTarget | Promise<DaemonTarget>;
    /**
     * Runs once the test's dirs, options and labels exist but before the daemon starts: a world the
     * controller then finds (replicas made by an older AutoServe, an nginx already serving).
     */
    before?: (ctx: { env: DockerTestEnv; options: DaemonOptions; manifestsDir: string }) => Promise<void>;
  } = {},
): Promise<TestDaemon> {
  const env = createDockerTestEnv(name);
  const target = await (how.target ?? dockerTarget)(env);
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
    // At most 2 workers, whatever the machine's cores: the same nginx on this 2-core machine (1) and
    // on a bigger CI host (2, still more than one), not dozens.
    nginxWorkers: Math.min(2, defaultWorkerProcesses()),
    port: 0,
    logLevel: process.env.AUTOSERVE_TEST_LOG ?? 'warn',
    ...target.options,
    ...overrides,
  });
  const logger = how.logStream ? pino({ level: options.logLevel }, how.logStream) : pino({ level: options.logLevel });
  const start = () => startDaemon(options, logger, target.parts);
  let daemon: Daemon;
  try {
    await how.before?.({ env, options, manifestsDir });
    daemon = await start();
  } catch (err) {
    await target.cleanup();
    await stopTestNginx(stateDir, options.lbPort);
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const list = (app: string) => daemon.runtime.list({ instance: options.instance, app });
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
    containers: async (app) => splitHaltMarkers(await list(app)).replicas,
    running: async (app) => splitHaltMarkers(await list(app)).replicas.filter((c) => c.running),
    haltMarkers: async (app) => splitHaltMarkers(await list(app)).markers,
    kill: (replica) => target.kill(replica),
    containerIds: (app) => target.containerIds(options.instance, app),
    async stop() {
      if (!stopped) await daemon.stop();
      stopped = true;
    },
    async restart() {
      await harness.stop();
      daemon = await start();
      stopped = false;
      await daemon.ready;
    },
    async cleanup() {
      await harness.stop().catch(() => undefined);
      await target.cleanup();
      await stopTestNginx(stateDir, options.lbPort);
      await rm(root, { recursive: true, force: true });
    },
  };
  await daemon.ready;
  return harness;
}
