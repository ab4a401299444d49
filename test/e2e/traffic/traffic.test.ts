// The traffic suite on the shared Docker engine (runtime docker).
import { startTestDaemon } from '../harness.js';
import { trafficSuite } from './traffic-suite.js';

trafficSuite('docker', () => startTestDaemon('traffic'));
