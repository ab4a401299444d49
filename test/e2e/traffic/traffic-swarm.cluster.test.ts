// The traffic suite on a private single-node swarm (runtime swarm): replicas are Swarm services,
// nginx on the host reaches their tasks on the overlay through the gateway.
import { describe, it } from 'vitest';
import { startTestDaemon } from '../harness.js';
import { swarmTarget, swarmUnsupported } from '../swarm-target.js';
import { trafficSuite } from './traffic-suite.js';

if (swarmUnsupported) describe.skip(`traffic through nginx: swarm (${swarmUnsupported})`, () => it('needs test nodes', () => undefined));
else trafficSuite('swarm', () => startTestDaemon('traffic-swarm', {}, { target: () => swarmTarget('e2e traffic swarm') }));
