// The runtime contract against the real Docker engine (the shared dockerd; everything is labelled
// with this test's label and removed afterwards).
import pino from 'pino';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { createDockerTestEnv } from '../../support/docker-test-env.js';
import { runtimeContract } from './runtime-contract.js';

runtimeContract('docker', async () => {
  const env = createDockerTestEnv('runtime-contract');
  const runtime = new DockerRuntime({ logger: pino({ level: 'silent' }), docker: env.docker });
  return {
    runtime,
    labels: env.labels,
    image: 'autoserve-demo:v1',
    async cleanup() {
      runtime.close();
      await env.cleanup();
    },
  };
});
