// Contract of the HTTP endpoint: every route's status codes and JSON shape, against a real server
// on a free port and a real Store on a temp file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppSpec } from '../../../src/manifest/types.js';
import { populate, startApiFixture, type ApiFixture } from './api-fixture.js';

describe('API read routes', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApiFixture({ appMetrics: (app) => (app === 'web' ? { requestsPerSecond: 12.5 } : undefined) });
    populate(f.store);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('GET /healthz is 200 {status: ok}', async () => {
    const r = await f.request('/healthz');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 503 until ready, then 200 once Docker answers', async () => {
    f.ready.value = false;
    const before = await f.request('/readyz');
    expect(before.status).toBe(503);
    expect(before.body).toMatchObject({ error: 'NotReady', message: expect.any(String) });
    f.ready.value = true;
    const after = await f.request('/readyz');
    expect(after.status).toBe(200);
    expect(after.body).toEqual({ status: 'ready' });
  });

  it('GET /leader says who acts: a single controller leads; on a swarm, any controller names the lease holder', async () => {
    expect((await f.request('/leader')).body).toEqual({ mode: 'single', leading: true });
    const standby = { mode: 'lease' as const, identity: 'b:2:x', leading: false, leader: 'a:1:y', since: '2024-05-01T10:00:00.000Z' };
    const g = await startApiFixture({ leadership: { status: () => standby } });
    try {
      expect((await g.request('/leader')).body).toEqual(standby);
    } finally {
      await g.close();
    }
  });

  it('GET /apps lists every app record, sorted by name', async () => {
    const r = await f.request('/apps');
    expect(r.status).toBe(200);
    expect(r.body.apps.map((a: { name: string }) => a.name)).toEqual(['api', 'web']);
    expect(r.body.apps[1]).toMatchObject({ name: 'web', phase: 'Running', replicas: { desired: 2, ready: 2, updated: 2 } });
  });

  it('GET /apps/{name} is the whole record; /status leaves out spec and file', async () => {
    const full = await f.request('/apps/web');
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ name: 'web', file: '/m/web.yaml', containerRevision: 'abc1234567', generation: 2 });
    expect(full.body.conditions[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'ReplicasReady' });
    const status = await f.request('/apps/web/status');
    expect(status.status).toBe(200);
    expect(status.body).not.toHaveProperty('file');
    expect(status.body).not.toHaveProperty('spec');
    expect(status.body.instances[0]).toMatchObject({ name: 'autoserve-web-abc1234567-0', health: 'ready', hostPort: 32001 });
  });

  it('GET /apps/{name}/metrics has the provider metrics and the scaling history', async () => {
    const r = await f.request('/apps/web/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ app: 'web', current: { requestsPerSecond: 12.5 }, autoscaledReplicas: null });
    expect(r.body.scalingHistory).toEqual([expect.objectContaining({ from: 1, to: 2, reason: 'rps above target' })]);
    const none = await f.request('/apps/api/metrics');
    expect(none.body.current).toBeNull();
    expect(none.body.scalingHistory).toEqual([]);
  });

  it.each(['/apps/nope', '/apps/nope/status', '/apps/nope/metrics', '/apps/nope/logs'])('unknown app on %s is 404 {error, message}', async (path) => {
    const r = await f.request(path);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'AppNotFound', message: 'no app named "nope"' });
  });

  it('an unknown path is 404 NotFound', async () => {
    const r = await f.request('/nothing/here');
    expect(r.status).toBe(404);
    expect(r.body.error).toBe('NotFound');
  });

  it('GET /events filters by app, since and limit', async () => {
    const all = await f.request('/events');
    expect(all.status).toBe(200);
    expect(all.body.events).toHaveLength(3);
    expect(all.body.events[0]).toMatchObject({ id: expect.any(Number), time: expect.any(String), type: 'Normal', reason: 'Created', count: 1 });
    const web = await f.request('/events?app=web');
    expect(web.body.events.map((e: { reason: string }) => e.reason)).toEqual(['Created']);
    const last = await f.request('/events?limit=1');
    expect(last.body.events.map((e: { reason: string }) => e.reason)).toEqual(['ManifestInvalid']);
    const future = await f.request(`/events?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.events).toEqual([]);
    const recent = await f.request('/events?since=5m');
    expect(recent.body.events).toHaveLength(3);
  });

  it.each([
    ['/events?limit=abc', 'limit'],
    ['/events?limit=0', 'limit'],
    ['/events?since=yesterday', 'since'],
    ['/apps/web/logs?tail=-1', 'tail'],
    ['/apps/web/logs?since=soon', 'since'],
    ['/apps/web/metrics?limit=x', 'limit'],
  ])('a bad query value (%s) is 400 naming the parameter', async (path, parameter) => {
    const r = await f.request(path);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('BadQuery');
    expect(r.body.message).toContain(parameter);
  });

  it.each([
    ['POST', '/apps'],
    ['PUT', '/apps/web'],
    ['DELETE', '/apps/web'],
    ['PATCH', '/events'],
    ['POST', '/metrics'],
  ])('%s %s is 405 with an Allow header', async (method, path) => {
    const r = await f.request(path, { method });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
    expect(r.body.error).toBe('MethodNotAllowed');
  });

  it('write calls are 405 WriteApiDisabled without --enable-write-api', async () => {
    const r = await f.request('/apps/web/scale', { method: 'POST', body: JSON.stringify({ replicas: 3 }) });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('');
    expect(r.body).toMatchObject({ error: 'WriteApiDisabled', message: expect.stringContaining('--enable-write-api') });
  });

  it('HEAD answers like GET without a body', async () => {
    const r = await f.request('/apps/web', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });
});

describe('API auth token', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApiFixture({ authToken: 's3cret-token' });
    populate(f.store);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('/healthz stays open', async () => {
    expect((await f.request('/healthz')).status).toBe(200);
  });

  it.each(['/apps', '/apps/web/status', '/events', '/metrics', '/readyz'])('%s is 401 without the token', async (path) => {
    const r = await f.request(path);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(r.body.error).toBe('Unauthorized');
  });

  it('a wrong token is 401, the right one 200', async () => {
    expect((await f.request('/apps', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await f.request('/apps', { headers: { authorization: 's3cret-token' } })).status).toBe(401);
    const ok = await f.request('/apps', { headers: { authorization: 'Bearer s3cret-token' } });
    expect(ok.status).toBe(200);
  });
});

describe('API with --redact-env-values', () => {
  it('shows env names and valueFrom references, never literal values, on every read of a spec', async () => {
    for (const redactEnvValues of [false, true]) {
      const f = await startApiFixture({ redactEnvValues });
      try {
        const spec = (value: string): AppSpec => ({
          type: 'http', image: 'x:1', ports: [{ containerPort: 80, publish: false }], network: { isolated: false }, replicas: 1, state: 'up',
          env: [{ name: 'MODE', value }, { name: 'DB', valueFrom: { secret: 'db' } }],
          termination: { drainSeconds: 1, stopTimeoutSeconds: 1 }, ingress: { host: 'web.localhost', pathPrefix: '/' },
          rollout: { maxSurge: 1, progressDeadlineSeconds: 60 },
        });
        // Every spec a record holds: the applied one and the one of the last stable revision.
        f.store.updateApp('web', (s) => {
          s.spec = spec('literal-value-123');
          s.stable = { revision: 'r1', spec: spec('literal-value-123') };
        });
        const reads = ['/apps', '/apps/web', '/apps/web/status', '/apps/web/metrics', '/events', '/history', '/top'];
        const texts = await Promise.all(reads.map(async (path) => (await f.request(path)).text));
        expect(texts.filter((text) => text.includes('literal-value-123')).length).toBe(redactEnvValues ? 0 : 3);
        for (const text of texts.slice(0, 3)) {
          expect(text.includes('literal-value-123')).toBe(!redactEnvValues);
          expect(text).toContain('"valueFrom":{"secret":"db"}');
        }
        if (redactEnvValues) expect((await f.request('/apps/web')).body.spec.env[0]).toEqual({ name: 'MODE', value: '(redacted)' });
        expect(f.store.app('web')?.spec?.env[0]?.value).toBe('literal-value-123'); // the store keeps it
      } finally {
        await f.close();
      }
    }
  });
});

describe('createApiServer', () => {
  it('refuses the write API without a token', async () => {
    await expect(startApiFixture({ enableWriteApi: true })).rejects.toThrow(/--enable-write-api requires a token/);
  });
});
