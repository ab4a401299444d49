// The real `autoserve run` on a test node of its own (a private dockerd a test may stop, kill or
// hang), with a set of apps; the host reaches its nginx and status endpoint at the node's address.
// Used by the chaos tests that disturb dockerd and by bench/recovery.bench.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { AppStatus } from '../../src/store/status-model.js';
import { appManifest } from './app-manifest.js';
import { CliDaemon } from './cli-daemon.js';
import { eventually } from './eventually.js';
import { httpGet } from './http-get.js';
import { createTestCluster, type TestCluster, type TestNode } from './test-node/test-cluster.js';

export const NODE_LB_PORT = 8080;
export const NODE_API_PORT = 8000;

export interface NodeApp {
  name: string;
  replicas: number;
  image?: string;
}

export interface NodeDaemonOptions {
  purpose: string;
  apps: NodeApp[];
  /** dockerd live-restore at the first start (default off). */
  liveRestore?: boolean;
  /** Extra images to copy into the node (the apps' images always are). */
  images?: string[];
  resync?: string;
  /** Extra environment for the daemon (e.g. AUTOSERVE_* knobs). */
  env?: NodeJS.ProcessEnv;
}

export class NodeDaemon {
  constructor(
    readonly cluster: TestCluster,
    readonly node: TestNode,
    readonly dir: string,
    readonly apps: NodeApp[],
    public daemon: CliDaemon,
  ) {}

  get manifestsDir(): string {
    return join(this.dir, 'manifests');
  }

  /** Writes (or rewrites) an app's manifest; the expected apps follow it. */
  async writeApp(app: NodeApp): Promise<void> {
    await writeFile(join(this.manifestsDir, `${app.name}.yaml`), appManifest(app.name, { replicas: app.replicas, image: app.image }));
    const i = this.apps.findIndex((a) => a.name === app.name);
    if (i >= 0) this.apps[i] = app;
    else this.apps.push(app);
  }

  async removeApp(name: string): Promise<void> {
    await rm(join(this.manifestsDir, `${name}.yaml`), { force: true });
    const i = this.apps.findIndex((a) => a.name === name);
    if (i >= 0) this.apps.splice(i, 1);
  }

  get address(): string {
    return this.node.address;
  }
  get docker(): Docker {
    return this.node.docker;
  }

  /** GET / of the app through nginx answers 200. */
  async serves(app: string, timeoutMs = 1_000): Promise<boolean> {
    return httpGet(NODE_LB_PORT, `${app}.localhost`, '/', timeoutMs, this.address).then((r) => r.status === 200, () => false);
  }

  async statuses(): Promise<AppStatus[]> {
    const res = await httpGet(NODE_API_PORT, this.address, '/apps', 2_000, this.address);
    return (JSON.parse(res.body) as { apps: AppStatus[] }).apps;
  }

  /** Every container of an app on the node, running or not. */
  containers(app: string): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`autoserve.app=${app}`] } });
  }

  /**
   * Converged: each app has exactly its replica count of containers, all running, one per slot,
   * all ready in the status, and it answers through nginx.
   */
  async expectConverged(): Promise<void> {
    const statuses = new Map((await this.statuses()).map((s) => [s.name, s]));
    for (const app of this.apps) {
      const containers = await this.containers(app.name);
      const running = containers.filter((c) => c.State === 'running');
      if (running.length !== app.replicas || containers.length !== app.replicas) {
        throw new Error(`${app.name}: ${containers.length} containers (${running.length} running), want ${app.replicas}: ${containers.map((c) => `${c.Names[0]}=${c.State}`).join(' ')}`);
      }
      const slots = new Set(containers.map((c) => c.Labels['autoserve.slot']));
      if (slots.size !== app.replicas) throw new Error(`${app.name}: duplicate slots ${[...slots].join(',')}`);
      const ready = statuses.get(app.name)?.replicas.ready;
      if (ready !== app.replicas) throw new Error(`${app.name}: ${ready} ready, want ${app.replicas}`);
      if (!(await this.serves(app.name))) throw new Error(`${app.name}: not served through nginx`);
    }
  }

  async waitConverged(timeoutMs = 120_000): Promise<number> {
    const started = Date.now();
    await eventually(() => this.expectConverged(), { timeoutMs, intervalMs: 250, message: 'every app converged' }).catch((err: unknown) => {
      throw new Error(`${String(err)}\ndaemon output:\n${this.daemon.log.slice(-3000)}`);
    });
    return Date.now() - started;
  }

  /** Resolves with ms from now until the app answers 200 through nginx. */
  async timeUntilServed(app: string, timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    await eventually(async () => {
      if (!(await this.serves(app, 500))) throw new Error(`${app} not served`);
    }, { timeoutMs, intervalMs: 50, message: `${app} served` });
    return Date.now() - started;
  }

  /** Replica addresses on the node's bridge (reachable from a process on the node). */
  async containerAddresses(port = 8080): Promise<string[]> {
    const all = await Promise.all(this.apps.map((a) => this.containers(a.name)));
    return all.flat().filter((c) => c.State === 'running').map((c) => `${Object.values(c.NetworkSettings.Networks)[0]!.IPAddress}:${port}`);
  }

  async destroy(): Promise<void> {
    this.daemon.signal('SIGTERM');
    await Promise.race([this.daemon.exited, new Promise((r) => setTimeout(r, 10_000))]);
    await this.cluster.destroy(); // also ends the daemon and its nginx: they run in the node's namespace
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function startNodeDaemon(options: NodeDaemonOptions): Promise<NodeDaemon> {
  const images = [...new Set([...options.apps.map((a) => a.image ?? 'autoserve-demo:v1'), ...(options.images ?? [])])];
  const cluster = await createTestCluster({ images, purpose: options.purpose, liveRestore: options.liveRestore });
  try {
    const node = cluster.node(0);
    const dir = await mkdtemp(join(tmpdir(), `autoserve-${options.purpose.replace(/\W+/g, '-')}-`));
    const manifestsDir = join(dir, 'manifests');
    await mkdir(manifestsDir);
    for (const app of options.apps) await writeFile(join(manifestsDir, `${app.name}.yaml`), appManifest(app.name, { replicas: app.replicas, image: app.image }));
    const daemon = new CliDaemon({
      manifestsDir,
      stateDir: join(dir, 'state'),
      apiHost: node.address,
      apiPort: NODE_API_PORT,
      lbHost: '0.0.0.0',
      lbPort: NODE_LB_PORT,
      resync: options.resync ?? '10s',
      logFile: join(dir, 'daemon.log'),
      spawnWith: (argv, spawnOptions) => node.spawn(argv, spawnOptions),
      env: options.env,
    });
    return new NodeDaemon(cluster, node, dir, options.apps, daemon);
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
}
