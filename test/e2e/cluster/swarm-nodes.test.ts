// Test nodes joined into one Swarm: a service's tasks spread over several nodes, reached by
// address over an attachable overlay from the first manager (through a gateway container) and
// from the host (routed through that manager).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { attachOverlayGateway } from '../../support/test-node/overlay-gateway.js';
import { runCommand } from '../../support/test-node/netns.js';
import { NODE_INDEX_LABEL } from '../../support/test-node/swarm.js';
import { createTestCluster, testNodesUnsupported, type TestCluster } from '../../support/test-node/test-cluster.js';

const IMAGE = 'autoserve-demo:v1';
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
    cluster = await createTestCluster({ nodes: NODES, images: [IMAGE], swarm: { managers: 1 }, purpose: 'e2e swarm-nodes' });
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
    await manager.docker.createNetwork({ Name: 'apps', Driver: 'overlay', Attachable: true });
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

    const gateway = await attachOverlayGateway(manager, 'apps', IMAGE);
    for (const address of addresses) {
      const out = await manager.exec(['node', '-e', `fetch('http://${address}:8080/version').then(r => r.text()).then(t => process.stdout.write(t))`]);
      expect(out.trim()).toBe('v1');
    }

    // The host reaches the overlay through the manager (a route in the host's table for our own
    // range; it goes away with the slot's host link).
    for (const subnet of gateway.subnets) await runCommand(['ip', 'route', 'replace', subnet, 'via', manager.address]);
    for (const address of addresses) {
      const res = await httpGet(8080, address, '/version', 3000, address);
      expect([res.status, res.body.trim()]).toEqual([200, 'v1']);
    }
  });
});
