// Test nodes joined into one Swarm: a service's tasks spread over several nodes, reached by
// address over an attachable overlay from the first manager (through the Swarm runtime's gateway
// container) and from the host (routed through that manager).
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOverlayNetwork, OverlayGateway } from '../../../src/runtime/swarm/overlay-gateway.js';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { routeFromHostThrough } from '../../support/test-node/host-route.js';
import { NODE_INDEX_LABEL } from '../../support/test-node/swarm.js';
import { createTestCluster, testNodesUnsupported, type TestCluster } from '../../support/test-node/test-cluster.js';

const IMAGE = 'autoserve-demo:v1';
const GATEWAY_IMAGE = 'autoserve-gateway:v1';
const NODES = 3;
const unsupported = await testNodesUnsupported();

interface Task {
  NodeID: string;
  Status: { State: string };
  NetworksAttachments?: { Network: { Spec: { Name: string } }; Addresses: string[] }[];
}

describe.skipIf(unsupported)(`swarm of ${NODES} test nodes`, () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await createTestCluster({ nodes: NODES, images: [IMAGE, GATEWAY_IMAGE], swarm: { managers: 1 }, purpose: 'e2e swarm-nodes' });
    console.log(`swarm of ${NODES} up: ${JSON.stringify(cluster.timings)}`);
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('every node is a ready member, told apart by its index label', async () => {
    const nodes = (await cluster.node(0).docker.listNodes()) as { ID: string; Status: { State: string }; Spec: { Labels: Record<string, string> } }[];
    expect(nodes.map((n) => n.Status.State)).toEqual(Array(NODES).fill('ready'));
    expect(nodes.map((n) => n.Spec.Labels[NODE_INDEX_LABEL]).sort()).toEqual(['0', '1', '2']);
  });

  it('a service spreads its tasks over the nodes, and each task answers by its overlay address from the manager and the host', async () => {
    const manager = cluster.node(0);
    const network = await ensureOverlayNetwork(manager.docker, 'apps', 'test');
    await manager.docker.createService({
      Name: 'web',
      TaskTemplate: {
        ContainerSpec: { Image: IMAGE },
        Networks: [{ Target: 'apps' }],
        Placement: { MaxReplicas: 1 },
        RestartPolicy: { Condition: 'any', Delay: 0 },
      },
      Mode: { Replicated: { Replicas: NODES } },
      // DNS round robin, no virtual IP: this kernel has no IPVS, and nginx balances by itself.
      EndpointSpec: { Mode: 'dnsrr' },
    } as never);
    const tasks = await eventually(async () => {
      const list = (await manager.docker.listTasks({ filters: { service: ['web'], 'desired-state': ['running'] } })) as Task[];
      expect(list.filter((t) => t.Status.State === 'running')).toHaveLength(NODES);
      return list;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(new Set(tasks.map((t) => t.NodeID)).size).toBe(NODES);
    const addresses = tasks.map((t) => t.NetworksAttachments!.find((a) => a.Network.Spec.Name === 'apps')!.Addresses[0]!.split('/')[0]!);

    // The route goes into the manager's namespace (what the controller there does) and, for this
    // test, from the host to the manager.
    const gateway = new OverlayGateway({ docker: manager.docker, network, name: 'gw-apps', image: GATEWAY_IMAGE, instance: 'test', installRoute: routeFromHostThrough(manager), logger: pino({ level: 'silent' }) });
    await gateway.ensure();
    for (const address of addresses) {
      const out = await manager.exec(['node', '-e', `fetch('http://${address}:8080/version').then(r => r.text()).then(t => process.stdout.write(t))`]);
      expect(out.trim()).toBe('v1');
    }

    for (const address of addresses) {
      const res = await httpGet(8080, address, '/version', 3000, address);
      expect([res.status, res.body.trim()]).toEqual([200, 'v1']);
    }
  });
});
