// A real API server on a free port over a real Store on a temp file, for the contract tests.
import { mkdtemp, rm } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { closeServer, createApiServer, listen, type ApiDeps } from '../../../src/api/server.js';
import { AutoserveMetrics } from '../../../src/observe/metrics.js';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { Store } from '../../../src/store/store.js';

export interface ApiFixture {
  store: Store;
  metrics: AutoserveMetrics;
  root: string;
  manifestsDir: string;
  base: string;
  server: http.Server;
  ready: { value: boolean };
  request(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: any; text: string }>;
  close(): Promise<void>;
}

export async function startApiFixture(overrides: Partial<ApiDeps> = {}): Promise<ApiFixture> {
  const root = await mkdtemp(join(tmpdir(), 'autoserve-api-'));
  const manifestsDir = join(root, 'manifests');
  const logger = pino({ level: 'silent' });
  const store = overrides.store ?? (await Store.open(join(root, 'state', 'autoserve.json'), logger));
  const metrics = overrides.metrics ?? new AutoserveMetrics({ apps: () => store.apps(), processMetrics: false });
  const ready = { value: true };
  const server = createApiServer({
    store,
    runtime: new DockerRuntime({ logger }),
    instance: 'default',
    isReady: () => ready.value,
    manifestsDir,
    metrics,
    enableWriteApi: false,
    logger,
    ...overrides,
  });
  const port = await listen(server, '127.0.0.1', 0);
  const base = `http://127.0.0.1:${port}`;
  return {
    store,
    metrics,
    root,
    manifestsDir,
    base,
    server,
    ready,
    async request(path, init) {
      const res = await fetch(base + path, init);
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, headers: res.headers, body, text };
    },
    async close() {
      await closeServer(server);
      await store.flush();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Fills the store with two apps, events and scaling history. */
export function populate(store: Store): void {
  store.updateApp('web', (s) => {
    s.file = '/m/web.yaml';
    s.phase = 'Running';
    s.generation = 2;
    s.observedGeneration = 2;
    s.replicas = { desired: 2, ready: 2, updated: 2 };
    s.containerRevision = 'abc1234567';
    s.conditions.push({ type: 'Ready', status: 'True', reason: 'ReplicasReady', message: '2/2 replicas ready', lastTransitionTime: new Date().toISOString() });
    s.instances.push({ id: 'c1', name: 'autoserve-web-abc1234567-0', revision: 'abc1234567', slot: 0, state: 'running', health: 'ready', draining: false, hostPort: 32001, startedAt: new Date().toISOString() });
  });
  store.updateApp('api', (s) => {
    s.phase = 'Degraded';
    s.replicas = { desired: 3, ready: 1, updated: 3 };
  });
  store.addEvent({ app: 'web', type: 'Normal', reason: 'Created', message: 'started 2' });
  store.addEvent({ app: 'api', type: 'Warning', reason: 'ReplicaUnhealthy', message: 'api-0 ready -> unhealthy' });
  store.addEvent({ type: 'Warning', reason: 'ManifestInvalid', message: 'broken.yaml: syntax' });
  store.addScaling({ time: new Date().toISOString(), app: 'web', from: 1, to: 2, reason: 'rps above target', metrics: { rps: { value: 120, target: 50 } } });
}
