// Issue 10 item 8: dockerd hangs (SIGSTOP for 30 s, then SIGCONT) under load through nginx, with
// AutoServe on a test node of its own. Every Docker call is bounded, so nothing wedges or piles up:
// the status endpoint keeps answering, the daemon's open connections to dockerd stay few, nginx
// keeps serving the replicas it has, and after SIGCONT a change made meanwhile converges. And an
// image whose pull never ends (a registry that holds every request) holds no queue worker: the app
// waits with a condition, other apps change meanwhile, and only one pull of it is ever made.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { httpGet } from '../support/http-get.js';
import { LoadGenerator } from '../support/load-generator.js';
import { NODE_API_PORT, NODE_LB_PORT, startNodeDaemon, type NodeDaemon } from '../support/node-daemon.js';
import { testNodesUnsupported } from '../support/test-node/test-cluster.js';
import { outageSeconds, recordFigures } from './figures.js';

const unsupported = await testNodesUnsupported();
const HANG_MS = 30_000;
const REGISTRY_PORT = 5000;
const SLOW_IMAGE = `127.0.0.1:${REGISTRY_PORT}/autoserve-slow:v1`;
/** The daemon's connections to dockerd (and its other unix sockets) while dockerd hangs: few, not growing. */
const MAX_UNIX_CONNECTIONS = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(unsupported)('dockerd hangs, and a pull that never ends (test node)', () => {
  let nd: NodeDaemon;
  let registry: ChildProcess | undefined;
  const registryRequests: string[] = [];

  beforeAll(async () => {
    nd = await startNodeDaemon({ purpose: 'chaos dockerd-hang', apps: [{ name: 'web', replicas: 2 }, { name: 'api', replicas: 2 }], resync: '5s' });
    await nd.waitConverged();
  });
  afterAll(async () => {
    registry?.kill('SIGTERM');
    await nd?.node.resumeDockerd().catch(() => undefined);
    await nd?.destroy();
  });

  const status = async (app: string) => (await nd.statuses()).find((s) => s.name === app);

  it('a pull that never ends holds no worker: the app waits with a condition, others converge, one pull only', async () => {
    registry = nd.node.spawn([process.execPath, join(import.meta.dirname, '..', 'support', 'stalling-registry.mjs'), String(REGISTRY_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    registry.stdout!.on('data', (chunk: Buffer) => registryRequests.push(...chunk.toString().split('\n').filter((l) => l.includes('"url"'))));
    await eventually(async () => expect(await nd.node.exec(['ss', '-Hltn', `sport = :${REGISTRY_PORT}`])).toContain(String(REGISTRY_PORT)));

    await nd.writeApp({ name: 'slow', replicas: 1, image: SLOW_IMAGE });
    await eventually(async () => expect((await status('slow'))?.conditions.find((c) => c.type === 'Progressing')?.reason).toBe('PullingImage'), {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: 'slow waits with PullingImage',
    });
    // Meanwhile another app changes, through the same queue.
    const changedAt = Date.now();
    await nd.writeApp({ name: 'web', replicas: 3 });
    await eventually(async () => expect((await status('web'))?.replicas.ready).toBe(3), { timeoutMs: 30_000, intervalMs: 250, message: 'web scaled while slow pulls' });
    const otherAppMs = Date.now() - changedAt;
    await sleep(6_000); // a resync (5 s) looks at slow again: it must join the pull under way
    const manifestRequests = registryRequests.filter((l) => l.includes('/manifests/')).length;
    recordFigures('slow-pull', { otherAppChangedWhilePullingS: otherAppMs / 1000, manifestRequests });
    expect(manifestRequests).toBe(1);

    await nd.removeApp('slow');
    registry.kill('SIGTERM'); // the held pull fails now; nothing is left running
    registry = undefined;
    await eventually(async () => expect(await status('slow')).toBeUndefined(), { timeoutMs: 30_000, intervalMs: 250 });
  });

  it('SIGSTOP for 30 s: nothing wedges or piles up, nginx serves, a change made meanwhile converges after SIGCONT', async () => {
    await nd.waitConverged(60_000);
    const loads = ['web', 'api'].map((app) => new LoadGenerator({ host: nd.address, port: NODE_LB_PORT, hostHeader: `${app}.localhost`, ratePerSec: 10, durationMs: HANG_MS + 8_000, timeoutMs: 3_000, isOk: (s) => s === 200 }));
    const running = loads.map((l) => l.run());
    await sleep(2_000);

    await nd.node.pauseDockerd();
    const pausedAt = Date.now();
    await nd.writeApp({ name: 'api', replicas: 3 }); // a pass that must create while dockerd hangs
    let slowestStatusMs = 0;
    let mostConnections = 0;
    while (Date.now() - pausedAt < HANG_MS) {
      const asked = Date.now();
      const res = await httpGet(NODE_API_PORT, nd.address, '/apps', 5_000, nd.address);
      expect(res.status).toBe(200);
      slowestStatusMs = Math.max(slowestStatusMs, Date.now() - asked);
      mostConnections = Math.max(mostConnections, await unixConnections(nd));
      await sleep(1_000);
    }
    await nd.node.resumeDockerd();
    const resumedAt = Date.now();
    await nd.waitConverged(60_000);
    const convergedMs = Date.now() - resumedAt;
    const results = await Promise.all(running);
    const failed = results.reduce((n, r) => n + r.failed, 0);
    recordFigures('dockerd-hang', {
      hungS: (resumedAt - pausedAt) / 1000,
      convergedAfterContS: convergedMs / 1000,
      slowestStatusAnswerMs: slowestStatusMs,
      mostUnixConnections: mostConnections,
      requests: results.reduce((n, r) => n + r.sent, 0),
      failed,
      outageS: Math.max(...results.map((r) => outageSeconds(r.failures))),
    });
    expect(slowestStatusMs).toBeLessThan(2_000);
    expect(mostConnections).toBeLessThanOrEqual(MAX_UNIX_CONNECTIONS);
    expect(failed, 'nginx keeps serving the replicas it has').toBe(0);
    expect(nd.daemon.log).toContain('did not answer');
  });
});

/** Established unix-socket connections of the daemon process (to dockerd, to nginx's control socket). */
async function unixConnections(nd: NodeDaemon): Promise<number> {
  const out = await nd.node.exec(['ss', '-Hxp', 'state', 'established']);
  return out.split('\n').filter((l) => l.includes(`pid=${nd.daemon.pid},`)).length;
}
