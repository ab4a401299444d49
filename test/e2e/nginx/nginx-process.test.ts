// End to end against the real nginx binary: our own master in a temp prefix, two in-process
// HTTP upstreams on loopback, requests through nginx with a Host header. Reload mode: the Lua
// module is made unavailable (a modules dir without it), so this is also the fallback's test.
// Lua membership mode: lua-membership.test.ts.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchServedConfigId } from '../../../src/controllers/routes/config-id-probe.js';
import { NginxProcess } from '../../../src/controllers/routes/nginx-process.js';
import { acceptingWorkerPids } from '../../../src/controllers/routes/nginx-workers.js';
import { fetchNginxStatus } from '../../../src/observe/nginx-status.js';
import type { AppRoute, RouteTable } from '../../../src/core/routes.js';
import { eventually } from '../../support/eventually.js';
import { freePort } from '../../support/free-port.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

async function startUpstream(name: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, url: req.url, host: req.headers.host, xff: req.headers['x-forwarded-for'] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

interface Reply {
  status: number;
  body: string;
}

function get(port: number, host: string, urlPath = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function namesSeen(port: number, host: string, n = 12, urlPath = '/'): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < n; i++) {
    const reply = await get(port, host, urlPath);
    expect(reply.status).toBe(200);
    names.add((JSON.parse(reply.body) as { name: string }).name);
  }
  return names;
}

const portOf = (s: http.Server) => (s.address() as AddressInfo).port;

const NO_LUA_MODULES_DIR = '/nonexistent/autoserve-no-lua-modules';

describe('own nginx master (real nginx), reload mode (Lua unavailable)', () => {
  let prefix: string;
  let listenPort: number;
  let up1: http.Server;
  let up2: http.Server;
  let nginx: NginxProcess;
  let firstPid: number;

  const s = (server: http.Server) => ({ host: '127.0.0.1', port: portOf(server) });
  const route = (app: string, servers: http.Server[], over: Partial<AppRoute> = {}): AppRoute => ({
    app,
    host: 'web.localhost',
    pathPrefix: '/',
    servers: servers.map(s),
    ...over,
  });
  const table = (...routes: AppRoute[]): RouteTable => ({ routes });

  beforeAll(async () => {
    prefix = await mkdtemp(path.join(os.tmpdir(), 'autoserve-nginx-e2e-'));
    listenPort = await freePort();
    up1 = await startUpstream('one');
    up2 = await startUpstream('two');
    nginx = new NginxProcess({ prefixDir: prefix, listen: { host: '127.0.0.1', port: listenPort }, logger, nginxBin: '/usr/sbin/nginx', workerProcesses: 1, nginxModulesDir: NO_LUA_MODULES_DIR });
  });

  afterAll(async () => {
    try {
      await nginx?.stop();
    } finally {
      await Promise.all([up1, up2].map((srv) => new Promise((resolve) => srv?.close(resolve))));
      if (prefix) await rm(prefix, { recursive: true, force: true });
    }
  });

  it('starts a master and balances across both upstreams, with forwarded headers', async () => {
    const result = await nginx.apply(table(route('web', [up1, up2]), route('api', [up2], { pathPrefix: '/api' })));
    expect(result).toMatchObject({ changed: true, reloaded: true, degraded: [] });
    expect(nginx.mode).toBe('reload');
    const mainConf = await readFile(nginx.mainConfPath, 'utf8');
    expect(mainConf).not.toContain('load_module');
    expect(await readFile(nginx.appsConfPath, 'utf8')).toMatch(/server 127\.0\.0\.1:\d+ max_fails=0;/);
    firstPid = (await nginx.pid()) as number;
    expect(firstPid).toBeGreaterThan(0);

    expect(await namesSeen(listenPort, 'web.localhost')).toEqual(new Set(['one', 'two']));
    expect(await namesSeen(listenPort, 'web.localhost', 4, '/api/x')).toEqual(new Set(['two']));
    const echoed = JSON.parse((await get(listenPort, 'web.localhost', '/hello?x=1')).body) as { url: string; host: string; xff: string };
    expect(echoed).toMatchObject({ url: '/hello?x=1', host: 'web.localhost', xff: '127.0.0.1' });
  });

  it('answers 404 for an unknown host', async () => {
    const reply = await get(listenPort, 'nobody.localhost');
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body)).toEqual({ error: 'unknown_host' });
  });

  it('answers 503 JSON for an app with zero servers, and does not reload for an unchanged table', async () => {
    const t = table(route('web', [up1, up2]), route('api', [up2], { pathPrefix: '/api' }), route('empty', [], { host: 'empty.localhost' }));
    expect(await nginx.apply(t)).toMatchObject({ changed: true, reloaded: true });
    const reply = await get(listenPort, 'empty.localhost', '/anything');
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body)).toEqual({ error: 'no_ready_replicas', app: 'empty' });

    expect(await nginx.apply(t)).toMatchObject({ changed: false, reloaded: false, degraded: [] });
    expect(await nginx.pid()).toBe(firstPid);
  });

  it('reloads on a membership change: a removed replica gets no more traffic once apply resolves', async () => {
    const result = await nginx.apply(table(route('web', [up1]), route('api', [up2], { pathPrefix: '/api' })));
    expect(result).toMatchObject({ changed: true, reloaded: true });
    expect(await namesSeen(listenPort, 'web.localhost')).toEqual(new Set(['one']));
    expect(await nginx.pid()).toBe(firstPid); // graceful reload, same master
  });

  it('a candidate nginx rejects keeps the old config serving, degrades only the breaking app, ships the others', async () => {
    // 'dup' claims web.localhost/ like 'web' (de-conflicting skipped): nginx -t says "duplicate location".
    const result = await nginx.apply(
      table(route('web', [up1, up2]), route('api', [up2], { pathPrefix: '/api' }), route('dup', [up2])),
    );
    expect(result.degraded).toHaveLength(1);
    expect(result.degraded[0]?.app).toBe('dup');
    expect(result.degraded[0]?.message).toMatch(/duplicate location/);
    expect(result.reloaded).toBe(true);
    expect(await namesSeen(listenPort, 'web.localhost')).toEqual(new Set(['one', 'two'])); // web's change went out
    expect(await nginx.pid()).toBe(firstPid);
  });

  it('a second NginxProcess on the same prefix adopts the running master', async () => {
    const second = new NginxProcess({ prefixDir: prefix, listen: { host: '127.0.0.1', port: listenPort }, logger, nginxBin: '/usr/sbin/nginx', workerProcesses: 1, membership: 'reload' });
    expect(await second.ensureRunning()).toEqual({ pid: firstPid, started: false });
    // Same table as now live: the newcomer does not reload either (degraded 'dup' is re-reported).
    const result = await second.apply(table(route('web', [up1, up2]), route('api', [up2], { pathPrefix: '/api' })));
    expect(result).toMatchObject({ changed: false, reloaded: false, degraded: [] });
    expect(await nginx.pid()).toBe(firstPid);
  });

  it('writes per-app access logs as JSON lines with the expected fields', async () => {
    await namesSeen(listenPort, 'web.localhost', 3, '/logged?q="x"');
    // nginx buffers access-log lines and writes them within a second (flush=1s).
    const lines = await eventually(async () => {
      const text = (await readFile(path.join(nginx.logsDir, 'access-web.log'), 'utf8')).trim().split('\n');
      expect(text.at(-1)).toContain('/logged?q=');
      return text;
    }, { timeoutMs: 5_000, intervalMs: 100 });
    expect(lines.length).toBeGreaterThan(3);
    const entry = JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
    expect(entry).toMatchObject({ app: 'web', host: 'web.localhost', method: 'GET', uri: '/logged?q="x"', status: 200 });
    for (const field of ['time', 'request_time', 'upstream_addr', 'upstream_status', 'upstream_response_time', 'bytes_sent', 'connection', 'connection_requests']) {
      expect(entry).toHaveProperty(field);
    }
    expect(typeof entry.time).toBe('number');
    expect(String(entry.upstream_addr)).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    // The master writes them; the workers' group (any process running as nobody) cannot read them.
    expect((await stat(nginx.logsDir)).mode & 0o777).toBe(0o700);
  });

  it('serves its checks on the root-only control socket (reload mode too), never on the public listener', async () => {
    expect((await fetchNginxStatus({ socketPath: nginx.controlSocket }))?.active).toBeGreaterThanOrEqual(1);
    expect(await fetchServedConfigId({ socketPath: nginx.controlSocket })).toMatch(/^[0-9a-f]{16}$/);
    expect((await stat(path.dirname(nginx.controlSocket))).mode & 0o777).toBe(0o700);
    for (const host of ['anything', 'autoserve-internal', 'localhost', 'web.localhost']) {
      for (const internal of ['/_autoserve/nginx-status', '/_autoserve/config-id']) {
        const reply = await get(listenPort, host, internal);
        expect(reply.body).not.toMatch(/Active connections|^[0-9a-f]{16}$/);
      }
    }
  });

  it('apps on any host, reserved ones included, leave reloads confirmed and other apps served', async () => {
    const squatters = ['autoserve-internal', 'localhost', '127.0.0.1'].map((host, i) => route(`squat${i}`, [up2], { host }));
    const started = Date.now();
    expect(await nginx.apply(table(route('web', [up1]), ...squatters))).toMatchObject({ changed: true, reloaded: true, degraded: [] });
    expect(await nginx.apply(table(route('web', [up1, up2]), ...squatters))).toMatchObject({ changed: true, reloaded: true, degraded: [] });
    expect(Date.now() - started).toBeLessThan(5_000); // confirmed, not timed out
    expect(await namesSeen(listenPort, 'web.localhost')).toEqual(new Set(['one', 'two']));
    expect(JSON.parse((await get(listenPort, 'autoserve-internal')).body)).toMatchObject({ name: 'two' });
  });

  it('starts again over the socket file a SIGKILLed master leaves behind', async () => {
    const pid = (await nginx.pid())!;
    const workers = await acceptingWorkerPids(pid);
    expect(workers.length).toBeGreaterThan(0);
    for (const victim of [pid, ...workers]) process.kill(victim, 'SIGKILL'); // our own test master
    await eventually(async () => expect(await nginx.isAlive()).toBe(false), { timeoutMs: 5_000 });
    await eventually(async () => expect(await get(listenPort, 'web.localhost').catch(() => 'down')).toBe('down'), { timeoutMs: 5_000 });
    await stat(nginx.controlSocket); // left behind: nginx would refuse to bind over it
    await nginx.apply(table(route('web', [up1])));
    expect(await nginx.pid()).not.toBe(pid);
    expect((await get(listenPort, 'web.localhost')).status).toBe(200);
    expect(await fetchServedConfigId({ socketPath: nginx.controlSocket })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('stops the master', async () => {
    await nginx.stop();
    expect(await nginx.isAlive()).toBe(false);
    await expect(get(listenPort, 'web.localhost')).rejects.toThrow();
  });
});
