// Lua membership mode against the real nginx + Lua module: replica changes go to the Lua balancer
// by POST (no reload), route changes still reload. In-process HTTP upstreams on loopback that count
// the requests they receive.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchServedConfigId } from '../../../src/controllers/routes/config-id-probe.js';
import { MEMBERSHIP_FILE, MEMBERSHIP_PATH } from '../../../src/controllers/routes/membership-endpoint.js';
import { NginxProcess } from '../../../src/controllers/routes/nginx-process.js';
import { acceptingWorkerPids } from '../../../src/controllers/routes/nginx-workers.js';
import { isPeerIpv4 } from '../../../src/core/peer-address.js';
import type { AppRoute, RouteTable } from '../../../src/core/routes.js';
import { freePort } from '../../support/free-port.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

interface Upstream {
  name: string;
  server: http.Server;
  port: number;
  hits: number;
}

async function startUpstream(name: string): Promise<Upstream> {
  const server = http.createServer((_req, res) => {
    upstream.hits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name }));
  });
  const upstream: Upstream = { name, server, port: 0, hits: 0 };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.address() as AddressInfo).port;
  return upstream;
}

function request(port: number | { socketPath: string }, host: string, opts: { method?: string; path?: string; body?: string; agent?: http.Agent } = {}): Promise<{ status: number; body: string }> {
  const target = typeof port === 'number' ? { host: '127.0.0.1', port } : port;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { ...target, path: opts.path ?? '/', method: opts.method ?? 'GET', agent: opts.agent ?? false, headers: { host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('own nginx master, lua membership mode (real nginx + Lua module)', () => {
  let prefix: string;
  let port: number;
  let ups: Upstream[];
  let nginx: NginxProcess;

  const route = (app: string, servers: Upstream[], over: Partial<AppRoute> = {}): AppRoute => ({
    app,
    host: `${app}.localhost`,
    pathPrefix: '/',
    servers: servers.map((u) => ({ host: '127.0.0.1', port: u.port })),
    ...over,
  });
  const table = (...routes: AppRoute[]): RouteTable => ({ routes });
  const names = async (host: string, n: number) => {
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const reply = await request(port, host);
      expect(reply.status).toBe(200);
      const name = (JSON.parse(reply.body) as { name: string }).name;
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    return seen;
  };
  const control = () => ({ socketPath: nginx.controlSocket });
  const served = async () => JSON.parse((await request(control(), 'autoserve-internal', { path: MEMBERSHIP_PATH })).body) as { apps: Record<string, string[]> };
  const peer = (u: Upstream) => `127.0.0.1:${u.port}`;
  const workers = async () => (await acceptingWorkerPids((await nginx.pid())!)).sort();

  beforeAll(async () => {
    prefix = await mkdtemp(path.join(os.tmpdir(), 'autoserve-nginx-lua-e2e-'));
    port = await freePort();
    ups = await Promise.all(['one', 'two', 'three'].map(startUpstream));
    nginx = new NginxProcess({ prefixDir: prefix, listen: { host: '127.0.0.1', port }, logger, nginxBin: '/usr/sbin/nginx', workerProcesses: 2 });
  });

  afterAll(async () => {
    try {
      await nginx?.stop();
    } finally {
      await Promise.all((ups ?? []).map((u) => new Promise((resolve) => u.server.close(resolve))));
      if (prefix) await rm(prefix, { recursive: true, force: true });
    }
  });

  it('detects the Lua module, renders no peers, and balances over the POSTed ones', async () => {
    const [one, two] = ups as [Upstream, Upstream, Upstream];
    const result = await nginx.apply(table(route('web', [one, two]), route('empty', [])));
    expect(nginx.mode).toBe('lua');
    expect(result).toMatchObject({ changed: true, reloaded: true, membershipChanged: true, degraded: [] });
    expect(await readFile(nginx.mainConfPath, 'utf8')).toContain('load_module "/usr/lib/nginx/modules/ngx_http_lua_module.so";');
    const apps = await readFile(nginx.appsConfPath, 'utf8');
    expect(apps).toContain('balancer_by_lua_block');
    expect(apps).not.toContain(String(one.port));
    expect(await served()).toEqual({ apps: { empty: [], web: [peer(one), peer(two)].sort() } });
    expect([...(await names('web.localhost', 10)).keys()].sort()).toEqual(['one', 'two']);
    const empty = await request(port, 'empty.localhost');
    expect(empty.status).toBe(503);
    expect(JSON.parse(empty.body)).toEqual({ error: 'no_ready_replicas', app: 'empty' });
    // The seed file for restarts holds the same membership.
    expect(JSON.parse(await readFile(path.join(prefix, MEMBERSHIP_FILE), 'utf8'))).toEqual(await served());
  });

  it('a membership change does not reload: same workers, same config id, traffic over the new peers', async () => {
    const [one, two, three] = ups as [Upstream, Upstream, Upstream];
    const workersBefore = await workers();
    const idBefore = await fetchServedConfigId(control());
    const confBefore = await readFile(nginx.appsConfPath, 'utf8');

    const result = await nginx.apply(table(route('web', [one, two, three]), route('empty', [])));
    expect(result).toMatchObject({ changed: true, reloaded: false, membershipChanged: true, degraded: [] });
    expect(await workers()).toEqual(workersBefore);
    expect(await fetchServedConfigId(control())).toBe(idBefore);
    expect(await readFile(nginx.appsConfPath, 'utf8')).toBe(confBefore);
    const seen = await names('web.localhost', 30);
    expect([...seen.keys()].sort()).toEqual(['one', 'three', 'two']);

    // The same table again: nothing to do at all.
    expect(await nginx.apply(table(route('web', [one, two, three]), route('empty', [])))).toMatchObject({ changed: false, reloaded: false, membershipChanged: false });
  });

  it('a removed peer gets no new request once apply() resolves (steady load on keep-alive connections)', async () => {
    const [one, two, three] = ups as [Upstream, Upstream, Upstream];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let stop = false;
    let errors = 0;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const reply = await request(port, 'web.localhost', { agent }).catch(() => ({ status: 0, body: '' }));
        if (reply.status !== 200) errors++;
      }
    });
    try {
      await sleep(300);
      expect(two.hits).toBeGreaterThan(0);
      const result = await nginx.apply(table(route('web', [one, three]), route('empty', [])));
      expect(result).toMatchObject({ reloaded: false, membershipChanged: true });
      // Requests nginx had already sent to `two` may still arrive for a moment (in flight).
      await sleep(50);
      const hitsAtApply = two.hits;
      const othersAtApply = one.hits + three.hits;
      await sleep(1_000);
      expect(two.hits).toBe(hitsAtApply);
      expect(one.hits + three.hits).toBeGreaterThan(othersAtApply + 50);
    } finally {
      stop = true;
      await Promise.all(loops);
      agent.destroy();
    }
    expect(errors).toBe(0);
  });

  it('an app going 0 -> >0 servers and back is a membership change only (no reload), serving at once', async () => {
    const [one, , three] = ups as [Upstream, Upstream, Upstream];
    const up = await nginx.apply(table(route('web', [one, three]), route('empty', [three])));
    expect(up).toMatchObject({ reloaded: false, membershipChanged: true });
    expect([...(await names('empty.localhost', 4)).keys()]).toEqual(['three']);
    const down = await nginx.apply(table(route('web', [one, three]), route('empty', [])));
    expect(down).toMatchObject({ reloaded: false, membershipChanged: true });
    const reply = await request(port, 'empty.localhost');
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body)).toEqual({ error: 'no_ready_replicas', app: 'empty' });
    expect(await served()).toEqual({ apps: { empty: [], web: [peer(one), peer(three)].sort() } });
  });

  it('rejects hostile membership POSTs and keeps the current membership', async () => {
    const before = await served();
    for (const body of [
      '{"apps":{"web":["8.8.8.8:80"]}}',
      '{"apps":{"web":["172.32.0.1:80"]}}',
      '{"apps":{"web":["127.0.0.1:0"]}}',
      '{"apps":{"web":["127.0.0.1:080"]}}',
      '{"apps":{"Web;":[]}}',
      '{"apps":{"web":["127.0.0.1:80\\"]}}',
      '{"apps":{"web":[]}} trailing',
      'not json',
    ]) {
      const reply = await request(control(), 'autoserve-internal', { method: 'POST', path: MEMBERSHIP_PATH, body });
      expect(reply.status, body).toBe(400);
    }
    expect(await served()).toEqual(before);
  });

  it('accepts exactly the peers the TypeScript side accepts (core/peer-address), and keeps nothing it refuses', async () => {
    const before = await served();
    const edges = ['127.0.0.1', '127.255.255.255', '10.0.0.1', '10.255.255.254', '172.16.0.1', '172.31.255.255', '172.15.255.255', '172.32.0.0',
      '192.168.0.1', '192.168.255.255', '192.167.0.1', '192.169.0.1', '0.0.0.0', '8.8.8.8', '169.254.0.1', '100.64.0.1', '255.255.255.255',
      '010.0.0.1', '172.016.0.1', '256.0.0.1', '1.2.3', '1.2.3.4.5'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    const random = Array.from({ length: 40 }, () => `${[10, 127, 172, 192, next()][next() % 5]}.${next()}.${next()}.${next()}`);
    for (const ip of [...edges, ...random]) {
      const reply = await request(control(), 'autoserve-internal', { method: 'POST', path: MEMBERSHIP_PATH, body: `{"apps":{"probe":["${ip}:8080"]}}` });
      expect(reply.status, ip).toBe(isPeerIpv4(ip) ? 200 : 400);
    }
    const restore = await request(control(), 'autoserve-internal', { method: 'POST', path: MEMBERSHIP_PATH, body: JSON.stringify(before) });
    expect(restore.status).toBe(200);
    expect(await served()).toEqual(before);
  });

  it('serves the membership endpoint only on the root-only control socket, not on the public listener', async () => {
    const before = await served();
    const viaTcp = await request(port, 'autoserve-internal', { method: 'POST', path: MEMBERSHIP_PATH, body: '{"apps":{"web":["127.0.0.1:9"]}}' });
    expect(viaTcp.status).toBe(404);
    expect(await served()).toEqual(before);
    // nginx makes the socket 0666; its directory is what keeps other users out.
    const dirMode = (await stat(path.dirname(nginx.controlSocket))).mode & 0o777;
    expect(dirMode).toBe(0o700);
  });

  it('after the master dies, ensureRunning starts it seeded from the file; the next apply restores membership', async () => {
    const [one, , three] = ups as [Upstream, Upstream, Upstream];
    const t = table(route('web', [one, three]), route('empty', []));
    process.kill((await nginx.pid())!, 'SIGTERM'); // fast shutdown: workers exit, the shared dict is gone
    for (let i = 0; i < 100 && (await nginx.isAlive()); i++) await sleep(50);
    expect(await nginx.isAlive()).toBe(false);

    // Seeded at start from the file the controller wrote before its last POST: routes at once.
    expect((await nginx.ensureRunning()).started).toBe(true);
    expect([...(await names('web.localhost', 6)).keys()].sort()).toEqual(['one', 'three']);

    // Without the seed file the dict starts empty; the next apply POSTs it back, without a reload.
    await rm(path.join(prefix, MEMBERSHIP_FILE));
    process.kill((await nginx.pid())!, 'SIGTERM');
    for (let i = 0; i < 100 && (await nginx.isAlive()); i++) await sleep(50);
    const second = new NginxProcess({ prefixDir: prefix, listen: { host: '127.0.0.1', port }, logger, nginxBin: '/usr/sbin/nginx', workerProcesses: 2 });
    expect((await second.ensureRunning()).started).toBe(true);
    expect(await served()).toEqual({ apps: {} });
    expect((await request(port, 'web.localhost')).status).toBe(503); // proxying location, no peer yet
    const result = await second.apply(t);
    expect(result).toMatchObject({ reloaded: false, membershipChanged: true, degraded: [] });
    expect(await served()).toEqual({ apps: { empty: [], web: [peer(one), peer(three)].sort() } });
    expect([...(await names('web.localhost', 6)).keys()].sort()).toEqual(['one', 'three']);
  });

  it('switches modes on the same prefix: reload mode adopts and re-renders, then Lua mode again', async () => {
    const [one, two] = ups as [Upstream, Upstream, Upstream];
    const t = table(route('web', [one, two]), route('empty', []));
    const reloadMode = new NginxProcess({ prefixDir: prefix, listen: { host: '127.0.0.1', port }, logger, nginxBin: '/usr/sbin/nginx', workerProcesses: 2, membership: 'reload' });
    expect((await reloadMode.ensureRunning()).started).toBe(false);
    expect(await reloadMode.apply(t)).toMatchObject({ reloaded: true, degraded: [] });
    expect(await readFile(nginx.appsConfPath, 'utf8')).toContain(`server 127.0.0.1:${one.port} max_fails=0;`);
    expect([...(await names('web.localhost', 6)).keys()].sort()).toEqual(['one', 'two']);

    const luaAgain = new NginxProcess({ prefixDir: prefix, listen: { host: '127.0.0.1', port }, logger, nginxBin: '/usr/sbin/nginx', workerProcesses: 2 });
    expect(await luaAgain.apply(t)).toMatchObject({ reloaded: true, degraded: [] });
    expect(luaAgain.mode).toBe('lua');
    expect([...(await names('web.localhost', 6)).keys()].sort()).toEqual(['one', 'two']);
    nginx = luaAgain; // afterAll stops it
  });
});
