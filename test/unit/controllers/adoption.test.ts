// A controller that starts and finds replicas running (a restart, an upgrade of AutoServe) plans an
// app only once those replicas have had their first probe: "not probed yet" is not "not ready",
// and an outdated replica that serves must be replaced by a rolling update, not removed at once.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ContainerController } from '../../../src/controllers/containers/container-controller.js';
import { ContainerExecutor } from '../../../src/controllers/containers/container-executor.js';
import { ImagePuller } from '../../../src/controllers/containers/image-puller.js';
import { Drainer } from '../../../src/controllers/containers/drainer.js';
import type { ReplicaFacts } from '../../../src/core/replica.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import { HealthProber } from '../../../src/observe/health-prober.js';
import { openValueSource } from '../../../src/secrets/value-source.js';
import { Store } from '../../../src/store/store.js';
import { appManifest } from '../../support/app-manifest.js';
import { eventually } from '../../support/eventually.js';

const logger = pino({ level: 'silent' });

describe('adopting running replicas', () => {
  it('waits for the first probe of an outdated replica it found, then rolls it instead of removing it', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const dir = await mkdtemp(join(tmpdir(), 'autoserve-adopt-'));
    const store = await Store.open(join(dir, 'store.json'), logger);
    const older: ReplicaFacts = {
      id: 'old0', name: 'autoserve-web-0000000000-0', app: 'web', revision: '0000000000', slot: 0, image: 'autoserve-demo:v1',
      state: 'running', running: true, createdAtMs: Date.now() - 60_000, labels: {},
      addresses: { 8080: { host: '127.0.0.1', port, proxied: true } }, published: { 8080: { host: '127.0.0.1', port } },
    };
    const calls: string[] = [];
    const runtime = {
      list: async () => [older],
      remove: async (id: string) => void calls.push(`remove ${id}`),
      stop: async () => undefined,
      inspect: async () => undefined,
      hasImage: async () => true,
      pullImage: async () => undefined,
      create: async () => (calls.push('create'), { id: 'new0', name: 'new0' }),
      start: async () => undefined,
      pruneNetworks: async () => [],
    };
    const prober = new HealthProber(() => {});
    const drainer = new Drainer({ runtime, logger, leaveUpstream: async () => {}, onGone: () => {} });
    const manifest = applyDefaults(load(appManifest('web', { replicas: 1 })));
    const controller = new ContainerController({
      runtime, store, prober, drainer, logger, instance: 'default',
      values: openValueSource({ env: {}, openEnv: [], fingerprintKey: Buffer.alloc(32, 7) }),
      desired: { get: () => ({ manifest, file: 'web.yaml', document: 0 }), mayPrune: () => true },
      executor: new ContainerExecutor({ runtime, drainer, logger, images: new ImagePuller({ runtime, logger, onPullEnded: () => {} }) }),
    });
    try {
      expect(await controller.reconcile('web')).toEqual({ requeueAfterMs: expect.any(Number) });
      expect(calls).toEqual([]);
      await eventually(() => expect(prober.health('old0')).toBe('ready'));
      await controller.reconcile('web');
      expect(calls).toEqual(['create']); // surge first; the older replica leaves once the new one is ready
    } finally {
      prober.close();
      server.close();
      await store.flush();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
