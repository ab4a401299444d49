// The AutoServe daemon under test on a test node: started in the node's network namespace with
// DOCKER_HOST at the node's dockerd, so its nginx and the replicas' 127.0.0.1 ports are the node's,
// and a test may restart that dockerd without touching anyone else's. The host reaches nginx and
// the status endpoint at the node's address.
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { createTestCluster, testNodesUnsupported, type TestCluster, type TestNode } from '../../support/test-node/test-cluster.js';
import { appManifest } from '../../support/app-manifest.js';

const unsupported = await testNodesUnsupported();
const LB_PORT = 8080;
const API_PORT = 8000;
/** Generous bound for this groundwork test; issue 10 item 7 wants 10 s (the figure is printed). */
const RECOVERY_BOUND_MS = 30_000;

describe.skipIf(unsupported)('AutoServe on a test node', () => {
  let cluster: TestCluster;
  let node: TestNode;
  let daemon: ChildProcess;
  let dir: string;

  beforeAll(async () => {
    cluster = await createTestCluster({ images: ['autoserve-demo:v1'], purpose: 'e2e autoserve-on-node' });
    node = cluster.node(0);
    dir = await mkdtemp(join(tmpdir(), 'autoserve-on-node-'));
    await writeFile(join(dir, 'web.yaml'), appManifest('web', { replicas: 2 }));
    const log = openSync(join(dir, 'daemon.log'), 'a');
    daemon = node.spawn(
      [process.execPath, 'dist/cli/main.js', 'run', '--manifests', dir, '--state', join(dir, 'state'), '--resync', '5s',
        '--lb-host', '0.0.0.0', '--lb-port', String(LB_PORT), '--host', node.address, '--port', String(API_PORT)],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
  });
  afterAll(async () => {
    daemon?.kill('SIGTERM');
    await cluster?.destroy(); // also kills the daemon's nginx: it runs in the node's namespace
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const serves = async () => {
    const res = await httpGet(LB_PORT, 'web.localhost', '/version', 2_000, node.address);
    expect(res.status).toBe(200);
  };

  it('serves an app through its nginx at the node address, and reports it on the status endpoint', async () => {
    await eventually(serves, { timeoutMs: 60_000, intervalMs: 250, message: `nginx on ${node.address}:${LB_PORT}` }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\ndaemon log:\n${(await readFile(join(dir, 'daemon.log'), 'utf8')).slice(-3000)}`);
    });
    await eventually(async () => {
      const status = JSON.parse((await httpGet(API_PORT, node.address, '/apps/web/status', 2_000, node.address)).body) as { replicas: { ready: number } };
      expect(status.replicas.ready).toBe(2);
    }, { timeoutMs: 20_000, message: 'status endpoint on the node address' });
    const containers = await node.docker.listContainers({ filters: { label: ['autoserve.app=web'] } });
    expect(containers).toHaveLength(2);
  });

  it('serves again after its dockerd restarts (SIGTERM, no live-restore)', async () => {
    await node.stopDockerd('SIGTERM');
    await node.startDockerd();
    const answering = Date.now();
    await eventually(serves, { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 100, message: 'serving after the dockerd restart' });
    console.log(`dockerd restart: the app served again ${((Date.now() - answering) / 1000).toFixed(1)} s after dockerd answered`);
  });
});
