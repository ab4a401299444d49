// A daemon under test on a private swarm of test nodes (never the shared dockerd): the in-process
// daemon talks to the first node (a manager) and reaches the overlay through it.
import type Docker from 'dockerode';
import type { ReplicaFacts } from '../../src/core/replica.js';
import { routeFromHostThrough } from '../support/test-node/host-route.js';
import { createTestCluster, testNodesUnsupported, type TestCluster } from '../support/test-node/test-cluster.js';
import type { DaemonTarget } from './harness.js';

/** Every image a swarm test may run, copied into each node (there is no registry to pull from). */
export const SWARM_TEST_IMAGES = ['autoserve-demo:v1', 'autoserve-demo:v2', 'autoserve-node-echo:v1', 'autoserve-gateway:v1'];
export const GATEWAY_TEST_IMAGE = 'autoserve-gateway:v1';

/** Why swarm tests cannot run here, or undefined. */
export const swarmUnsupported = await testNodesUnsupported();

/** The containers with these labels on every node of the cluster. */
async function containersOn(cluster: TestCluster, labels: string[]): Promise<{ docker: Docker; id: string }[]> {
  const found = await Promise.all(
    cluster.nodes.map(async (node) => (await node.docker.listContainers({ filters: { label: labels } }).catch(() => [])).map((c) => ({ docker: node.docker, id: c.Id }))),
  );
  return found.flat();
}

/** The daemon on the cluster's first node; `cleanup` destroys the cluster when `owned`. */
export function swarmTargetOn(cluster: TestCluster, owned: boolean): DaemonTarget {
  const manager = cluster.node(0);
  return {
    options: { runtime: 'swarm', swarmGatewayImage: GATEWAY_TEST_IMAGE },
    parts: { docker: manager.docker, installRoute: routeFromHostThrough(manager) },
    async kill(replica: ReplicaFacts) {
      const [task] = await containersOn(cluster, [`com.docker.swarm.service.id=${replica.id}`]);
      if (!task) throw new Error(`no running container of ${replica.name}`);
      await task.docker.getContainer(task.id).kill();
      return task.id;
    },
    async containerIds(instance, app) {
      return (await containersOn(cluster, [`autoserve.instance=${instance}`, `autoserve.app=${app}`])).map((c) => c.id);
    },
    cleanup: async () => {
      if (owned) await cluster.destroy();
    },
  };
}

/** A fresh single-node swarm for one daemon; destroyed with it. */
export async function swarmTarget(purpose: string): Promise<DaemonTarget> {
  return swarmTargetOn(await createTestCluster({ images: SWARM_TEST_IMAGES, swarm: true, purpose }), true);
}
