// A controller that does not lead (a standby on a Swarm) observes, plans and records, and acts on
// nothing: no create, no drain, no prune; once it leads, the same pass acts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ContainerController } from '../../../src/controllers/containers/container-controller.js';
import { ContainerExecutor, type ContainerExecutorDeps } from '../../../src/controllers/containers/container-executor.js';
import { ImagePuller, type ImagePullerDeps } from '../../../src/controllers/containers/image-puller.js';
import { Drainer } from '../../../src/controllers/containers/drainer.js';
import type { ReplicaFacts } from '../../../src/core/replica.js';
import type { LoadedApp } from '../../../src/manifest/types.js';
import { validateManifest } from '../../../src/manifest/validate-manifest.js';
import { HealthProber } from '../../../src/observe/health-prober.js';
import type { ContainerRuntime } from '../../../src/runtime/runtime.js';
import { openValueSource } from '../../../src/secrets/value-source.js';
import { Store } from '../../../src/store/store.js';
import { minimal } from '../manifest/fixtures.js';

const logger = pino({ level: 'silent' });
const values = openValueSource({ env: {}, openEnv: [], fingerprintKey: Buffer.alloc(32, 7) });

function loaded(replicas: number): LoadedApp {
  const raw = minimal('web', 'autoserve-demo:v1') as { spec: Record<string, unknown> };
  raw.spec.replicas = replicas;
  return { file: '/m/web.yaml', document: 0, manifest: validateManifest(raw).manifest! };
}

type FakeRuntime = ContainerExecutorDeps['runtime'] & ImagePullerDeps['runtime'] & ConstructorParameters<typeof Drainer>[0]['runtime'] & Pick<ContainerRuntime, 'list' | 'inspect'>;

/** A controller over a fake runtime, a real store in a temp dir, and no load balancer. */
async function controllerOf(runtime: FakeRuntime, desired: () => LoadedApp | undefined, mayAct: () => boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'autoserve-follower-'));
  const store = await Store.open(join(dir, 'store.json'), logger);
  const prober = new HealthProber(() => {});
  const drainer = new Drainer({ runtime, logger, leaveUpstream: async () => {}, onGone: () => {} });
  const controller = new ContainerController({
    runtime, store, prober, drainer, logger, values, instance: 'follower-test', mayAct,
    desired: { get: desired, mayPrune: () => true },
    executor: new ContainerExecutor({ runtime, drainer, logger, images: new ImagePuller({ runtime, logger, onPullEnded: () => {} }) }),
  });
  const close = async () => {
    prober.close();
    await store.flush();
    await rm(dir, { recursive: true, force: true });
  };
  return { controller, store, close };
}

function running(slot: number): ReplicaFacts {
  return {
    id: `id${slot}`, name: `autoserve-web-x-${slot}`, app: 'web', revision: 'old', slot, image: 'autoserve-demo:v1', state: 'running', running: true,
    createdAtMs: Date.now() - 60_000, addresses: {}, labels: {}, node: { nodeId: 'n1', node: 'node-a' },
  };
}

describe('a controller that does not lead', () => {
  it('records what it sees (replicas, their node) and creates, drains and prunes nothing until it leads', async () => {
    const calls: string[] = [];
    const facts = [running(0)];
    const runtime = {
      list: async () => facts,
      inspect: async () => undefined,
      hasImage: async () => true,
      pullImage: async () => void calls.push('pullImage'),
      create: async () => (calls.push('create'), { id: 'new', name: 'new' }),
      start: async () => void calls.push('start'),
      stop: async () => void calls.push('stop'),
      remove: async () => void calls.push('remove'),
    };
    let leading = false;
    let app: LoadedApp | undefined = loaded(2);
    const { controller, store, close } = await controllerOf(runtime, () => app, () => leading);
    try {
      await controller.reconcile('web'); // wants 2 of a new revision, 1 old runs
      expect(calls).toEqual([]);
      const status = store.app('web')!;
      expect(status.replicas.desired).toBe(2);
      expect(status.instances.map((i) => [i.name, i.node])).toEqual([['autoserve-web-x-0', 'node-a']]);
      expect(store.events({ app: 'web' }).filter((e) => ['Created', 'Draining', 'Removed'].includes(e.reason))).toEqual([]);

      app = undefined; // manifest removed: a standby prunes nothing
      await controller.reconcile('web');
      expect(calls).toEqual([]);

      app = loaded(2);
      leading = true;
      await controller.reconcile('web');
      expect(calls).toContain('create');
    } finally {
      await close();
    }
  });

  it('with every replica gone, a standby forgets the app as the leader does (bookkeeping, no action)', async () => {
    const runtime = { list: async () => [], inspect: async () => undefined, hasImage: async () => true, pullImage: async () => {}, create: async () => ({ id: 'x', name: 'x' }), start: async () => {}, stop: async () => {}, remove: async () => {} };
    const { controller, store, close } = await controllerOf(runtime, () => undefined, () => false);
    store.updateApp('web', (s) => void (s.spec = loaded(1).manifest.spec));
    try {
      await controller.reconcile('web');
      expect(store.app('web')).toBeUndefined();
    } finally {
      await close();
    }
  });
});
