// The runtime contract against Docker Swarm: a private single-node swarm on a test node (never the
// shared dockerd), with the test process on the host reaching the overlay through the node.
import pino from 'pino';
import { describe, it } from 'vitest';
import { SwarmRuntime } from '../../../src/runtime/swarm/swarm-runtime.js';
import { routeFromHostThrough } from '../../support/test-node/host-route.js';
import { createTestCluster, testNodesUnsupported } from '../../support/test-node/test-cluster.js';
import { runtimeContract } from './runtime-contract.js';

export const SWARM_TEST_IMAGES = ['autoserve-demo:v1', 'autoserve-node-echo:v1', 'autoserve-gateway:v1'];
const unsupported = await testNodesUnsupported();

if (unsupported) {
  describe.skip(`runtime contract: swarm (${unsupported})`, () => it('needs test nodes', () => undefined));
} else {
  runtimeContract('swarm', async () => {
    const cluster = await createTestCluster({ images: SWARM_TEST_IMAGES, swarm: true, purpose: 'e2e swarm runtime contract' });
    const node = cluster.node(0);
    const runtime = new SwarmRuntime({
      logger: pino({ level: process.env.AUTOSERVE_TEST_LOG ?? 'silent' }),
      instance: 'contract',
      docker: node.docker,
      gatewayImage: 'autoserve-gateway:v1',
      installRoute: routeFromHostThrough(node),
    });
    try {
      await runtime.prepare();
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return {
      runtime,
      labels: {},
      image: 'autoserve-demo:v1',
      refuses: ['publish', 'isolated'],
      hang: { pause: () => node.pauseDockerd(), resume: () => node.resumeDockerd() },
      async cleanup() {
        runtime.close();
        await cluster.destroy();
      },
    };
  });
}
