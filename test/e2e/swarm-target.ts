// A daemon under test on a private single-node swarm: a test node (never the shared dockerd) joined
// into its own swarm, with the in-process daemon on the host reaching the overlay through the node.
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

/** The container that runs a replica's current task on `docker`'s engine. */
export async function taskContainers(docker: Docker, labels: string[]): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ filters: { label: labels } });
}

export async function swarmTarget(purpose: string): Promise<DaemonTarget & { cluster: TestCluster }> {
  const cluster = await createTestCluster({ images: SWARM_TEST_IMAGES, swarm: { heartbeatMs: 1000 }, purpose });
  const node = cluster.node(0);
  return {
    cluster,
    options: { runtime: 'swarm', swarmGatewayImage: GATEWAY_TEST_IMAGE },
    parts: { docker: node.docker, installRoute: routeFromHostThrough(node) },
    async kill(replica: ReplicaFacts) {
      const [task] = await taskContainers(node.docker, [`com.docker.swarm.service.id=${replica.id}`]);
      if (!task) throw new Error(`no running container of ${replica.name}`);
      await node.docker.getContainer(task.Id).kill();
      return task.Id;
    },
    async containerIds(instance, app) {
      return (await taskContainers(node.docker, [`autoserve.instance=${instance}`, `autoserve.app=${app}`])).map((c) => c.Id);
    },
    cleanup: () => cluster.destroy(),
  };
}
