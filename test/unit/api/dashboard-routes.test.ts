// Contract of the dashboard's endpoints against a real server: history columns, top, the change
// stream, the UI shell and assets with their caching headers, and the token -> cookie login.
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MetricHistory, type HistorySample } from '../../../src/history/metric-history.js';
import { readEvents } from '../../support/read-events.js';
import { populate, startApiFixture, type ApiFixture } from './api-fixture.js';

function sample(t: number, rps: number): HistorySample {
  return { t, rps, p95Ms: 10, cpu: 0.5, cpuCores: 0.1, memory: 0.2, memoryBytes: 2048, desired: 2, ready: 2 };
}

async function writeUi(dir: string): Promise<void> {
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'index.html'), '<!doctype html><script type="module" src="/ui/assets/app-ABC.js"></script>');
  await writeFile(join(dir, 'assets', 'app-ABC.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
}

describe('history endpoints', () => {
  let f: ApiFixture;
  const history = new MetricHistory(5_000, 10);
  beforeAll(async () => {
    f = await startApiFixture({
      history,
      replicaLoads: (app) => (app === 'web' ? [{ id: 'c1', name: 'web-0', cpu: 0.5, cpuCores: 0.1, memory: 0.2, memoryBytes: 2048 }] : []),
    });
    populate(f.store);
    for (let i = 1; i <= 3; i++) history.record('web', sample(i * 5_000, i));
  });
  afterAll(async () => {
    await f?.close();
  });

  it('GET /history has the columns of every app, empty for an app without samples', async () => {
    const r = await f.request('/history?fields=rps,ready');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      intervalSeconds: 5,
      points: 10,
      apps: { api: { t: [], rps: [], ready: [] }, web: { t: [5_000, 10_000, 15_000], rps: [1, 2, 3], ready: [2, 2, 2] } },
    });
  });

  it('GET /history?since= and ?app= narrow the answer; an unknown field is a 400 naming it', async () => {
    const r = await f.request('/history?app=web&since=10&fields=rps');
    expect(r.body.apps).toEqual({ web: { t: [10_000, 15_000], rps: [2, 3] } });
    const bad = await f.request('/history?fields=rps,bogus');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'BadQuery', message: expect.stringContaining('"bogus"') });
  });

  it('GET /apps/{name}/history has every field and the scaling decisions in range', async () => {
    const r = await f.request('/apps/web/history');
    expect(r.status).toBe(200);
    expect(r.body.series.t).toEqual([5_000, 10_000, 15_000]);
    expect(Object.keys(r.body.series).sort()).toEqual(['cpu', 'cpuCores', 'desired', 'memory', 'memoryBytes', 'p95Ms', 'ready', 'rps', 't']);
    expect(r.body.scaling).toEqual([expect.objectContaining({ from: 1, to: 2 })]);
    const later = await f.request(`/apps/web/history?since=${Date.now() / 1000 + 60}`);
    expect(later.body.scaling).toEqual([]);
    expect((await f.request('/apps/nope/history')).status).toBe(404);
  });

  it('GET /top has the latest sample of each app and its replicas', async () => {
    const r = await f.request('/top');
    expect(r.status).toBe(200);
    expect(r.body.apps).toEqual([
      { name: 'api', time: null, rps: null, p95Ms: null, cpu: null, cpuCores: null, memory: null, memoryBytes: null, desired: null, ready: null, replicas: [] },
      {
        name: 'web', time: new Date(15_000).toISOString(), rps: 3, p95Ms: 10, cpu: 0.5, cpuCores: expect.closeTo(0.1, 5), memory: expect.closeTo(0.2, 5), memoryBytes: 2048, desired: 2, ready: 2,
        replicas: [{ id: 'c1', name: 'web-0', cpu: 0.5, cpuCores: 0.1, memory: 0.2, memoryBytes: 2048 }],
      },
    ]);
    expect((await f.request('/top?app=nope')).status).toBe(404);
  });

  it('GET /watch says hello, then "change" after a store mutation and "history" after a sample', async () => {
    const reading = readEvents(`${f.base}/watch`, 3);
    await new Promise((r) => setTimeout(r, 100));
    f.store.addEvent({ app: 'web', type: 'Normal', reason: 'Probe', message: 'x' });
    history.record('web', sample(20_000, 4));
    const { events } = await reading;
    expect(events[0]).toMatch(/^hello \{"store":\d+,"history":15000\}$/);
    expect(events.slice(1).sort()).toEqual([expect.stringMatching(/^change \{"store":\d+\}$/), 'history {"t":20000}']);
  });

  it('closing the server ends open streams instead of waiting for them', async () => {
    const g = await startApiFixture();
    const reading = readEvents(`${g.base}/watch`, 99);
    await new Promise((r) => setTimeout(r, 100));
    await g.close(); // would hang (test timeout) if the stream held the server open
    expect((await reading).events).toEqual([expect.stringMatching(/^hello /)]);
  }, 5_000);
});

describe('dashboard shell, assets and login', () => {
  const TOKEN = 'ui-test-token';
  let f: ApiFixture;
  let open: ApiFixture | undefined;
  beforeAll(async () => {
    f = await startApiFixture(); // its temp dir holds the built-UI fixtures
  });
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });
  afterAll(async () => {
    await f?.close();
  });

  async function withUi(overrides: Parameters<typeof startApiFixture>[0] = {}): Promise<ApiFixture> {
    const uiDir = join(f.root, `ui-${Math.random().toString(36).slice(2)}`);
    await writeUi(uiDir);
    open = await startApiFixture({ uiDir, ...overrides });
    return open;
  }

  it('every page path answers the shell, revalidated by ETag, with a strict CSP', async () => {
    const g = await withUi();
    for (const path of ['/ui', '/ui/', '/ui/apps/web', '/ui/events']) {
      const r = await g.request(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    const first = await g.request('/ui/');
    const again = await g.request('/ui/', { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('assets are immutable for a year and sent gzipped to clients that take it', async () => {
    const g = await withUi();
    const r = await new Promise<http.IncomingMessage & { body: Buffer }>((resolve, reject) => {
      http.get(`${g.base}/ui/assets/app-ABC.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Object.assign(res, { body: Buffer.concat(chunks) })));
      }).on('error', reject);
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(gunzipSync(r.body).toString()).toContain('console.log');
    expect((await g.request('/ui/assets/nope.js')).status).toBe(404);
  });

  it('without a built UI the page is a 503 that says how to build it', async () => {
    const g = await startApiFixture({ uiDir: join(f.root, 'missing') });
    open = g;
    const r = await g.request('/ui/');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ error: 'UiNotBuilt', message: expect.stringContaining('npm run build') });
  });

  it('with a token: the shell is open, data is refused, a login turns the token into a read-only cookie', async () => {
    const g = await withUi({ authToken: TOKEN, enableWriteApi: true });
    populate(g.store);
    expect((await g.request('/ui/')).status).toBe(200);
    expect((await g.request('/apps')).status).toBe(401);
    expect((await g.request('/ui/session')).body).toEqual({ authRequired: true, authenticated: false });

    const wrong = await g.request('/ui/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const ok = await g.request('/ui/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    expect(ok.status).toBe(200);
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^autoserve_session=\d+\.[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0]!;

    expect((await g.request('/apps', { headers: { cookie } })).status).toBe(200);
    expect((await g.request('/ui/session', { headers: { cookie } })).body).toEqual({ authRequired: true, authenticated: true });
    // Reads only: a write call with the cookie alone is refused.
    const write = await g.request('/apps/web/scale', { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{"replicas":1}' });
    expect(write.status).toBe(401);
    // A forged or altered cookie is refused.
    const forged = cookie.replace(/\.(.)/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    expect((await g.request('/apps', { headers: { cookie: forged } })).status).toBe(401);
    const longer = cookie.replace(/=(\d+)\./, (_, n: string) => `=${Number(n) + 1}.`);
    expect((await g.request('/apps', { headers: { cookie: longer } })).status).toBe(401);

    const out = await g.request('/ui/logout', { method: 'POST' });
    expect(out.headers.get('set-cookie')).toMatch(/^autoserve_session=; Path=\/; Max-Age=0/);
  });

  it('a cookie from another controller process (or before a restart) is refused', async () => {
    const a = await withUi({ authToken: TOKEN });
    const login = await a.request('/ui/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const b = await startApiFixture({ authToken: TOKEN });
    try {
      expect((await b.request('/apps', { headers: { cookie } })).status).toBe(401);
    } finally {
      await b.close();
    }
  });

  it('without a token the dashboard needs no login', async () => {
    const g = await withUi();
    expect((await g.request('/ui/session')).body).toEqual({ authRequired: false, authenticated: true });
    const r = await g.request('/ui/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"x"}' });
    expect(r.status).toBe(409);
    expect(r.body.error).toBe('AuthDisabled');
  });
});
