// For a controller under test that runs on the host (in the test process) against a test node's
// engine: the Swarm runtime routes the overlay through its gateway, whose address is on the
// node's docker_gwbridge, inside the node's namespace. So the route goes there, and the host
// sends the overlay's subnet to the node (a route for the slot's own range; it goes away with the
// slot's host link).
import type { RouteInstaller } from '../../../src/runtime/swarm/overlay-gateway.js';
import { runCommand } from './netns.js';
import type { TestNode } from './test-cluster.js';

export function routeFromHostThrough(node: TestNode): RouteInstaller {
  return async (subnet, nextHop) => {
    await node.exec(['ip', 'route', 'replace', subnet, 'via', nextHop]);
    await runCommand(['ip', 'route', 'replace', subnet, 'via', node.address]);
  };
}
