// A container controller over a fake runtime, with a real store in a temp dir, a real prober and
// drainer, and no load balancer: for tests of what one pass records and does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ContainerController } from '../../../src/controllers/containers/container-controller.js';
import { ContainerExecutor, type ContainerExecutorDeps } from '../../../src/controllers/containers/container-executor.js';
import { Drainer } from '../../../src/controllers/containers/drainer.js';
import { ImagePuller, type ImagePullerDeps } from '../../../src/controllers/containers/image-puller.js';
import type { LoadedApp } from '../../../src/manifest/types.js';
import { validateManifest } from '../../../src/manifest/validate-manifest.js';
import { HealthProber } from '../../../src/observe/health-prober.js';
import type { ContainerRuntime } from '../../../src/runtime/runtime.js';
import { openValueSource } from '../../../src/secrets/value-source.js';
import { Store } from '../../../src/store/store.js';
import { minimal } from '../manifest/fixtures.js';

const logger = pino({ level: 'silent' });
const values = openValueSource({ env: {}, openEnv: [], fingerprintKey: Buffer.alloc(32, 7) });

/** The app `web` (autoserve-demo:v1) with `replicas`, and any other spec fields given. */
export function loadedWeb(replicas: number, spec: Record<string, unknown> = {}): LoadedApp {
  const raw = minimal('web', 'autoserve-demo:v1') as { spec: Record<string, unknown> };
  Object.assign(raw.spec, { replicas, ...spec });
  return { file: '/m/web.yaml', document: 0, manifest: validateManifest(raw).manifest! };
}

export type FakeRuntime = ContainerExecutorDeps['runtime'] &
  ImagePullerDeps['runtime'] &
  ConstructorParameters<typeof Drainer>[0]['runtime'] &
  Pick<ContainerRuntime, 'list' | 'inspect' | 'pruneNetworks'>;

export async function controllerOf(runtime: FakeRuntime, desired: () => LoadedApp | undefined, mayAct: () => boolean = () => true) {
  const dir = await mkdtemp(join(tmpdir(), 'autoserve-controller-'));
  const store = await Store.open(join(dir, 'store.json'), logger);
  const prober = new HealthProber(() => {});
  const drainer = new Drainer({ runtime, logger, leaveUpstream: async () => {}, onGone: () => {} });
  const controller = new ContainerController({
    runtime, store, prober, drainer, logger, values, instance: 'controller-test', mayAct,
    desired: { get: desired, mayPrune: () => true },
    executor: new ContainerExecutor({ runtime, drainer, logger, images: new ImagePuller({ runtime, logger, onPullEnded: () => {} }) }),
  });
  const close = async () => {
    prober.close();
    await store.flush();
    await rm(dir, { recursive: true, force: true });
  };
  return { controller, store, prober, close };
}
