// Scale to zero in the real nginx + Lua module: a request to an app with no peer is held (not
// answered) until peers are POSTed, in arrival order; the controller's side reads arrivals, held and
// in-flight requests and wake requests over the control socket. In-process upstreams on loopback.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_PATH } from '../../../src/controllers/routes/activity-endpoint.js';
import { NginxProcess } from '../../../src/controllers/routes/nginx-process.js';
import type { ActivityChannel } from '../../../src/core/activity.js';
import type { AppRoute, RouteTable } from '../../../src/core/routes.js';
import { eventually } from '../../support/eventually.js';
import { freePort } from '../../support/free-port.js';
import { nginxProcessesUnder } from '../../support/nginx-processes.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

interface Upstream {
  server: http.Server;
  port: number;
  /** Request paths in the order they arrived. */
  seen: string[];
  /** Answer after this many ms. */
  delayMs: number;
}

async function startUpstream(): Promise<Upstream> {
  const upstream: Upstream = { server: http.createServer(), port: 0, seen: [], delayMs: 0 };
  upstream.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    upstream.seen.push(req.url ?? '');
    setTimeout(() => res.end('ok'), upstream.delayMs);
  });
  await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
  upstream.port = (upstream.server.address() as AddressInfo).port;
  return upstream;
}

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  atMs: number;
}

function request(port: number, host: string, opts: { path?: string; accept?: string; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host, ...(opts.accept ? { accept: opts.accept } : {}) };
    const req = http.request({ host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', agent: false, headers, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, atMs: Date.now() }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('held requests (real nginx + Lua module)', () => {
  let prefix: string;
  let port: number;
  let up: Upstream;
  let nginx: NginxProcess;
  let channel: ActivityChannel;

  const route = (app: string, peers: Upstream[], hold?: AppRoute['hold']): AppRoute => ({
    app,
    host: `${app}.localhost`,
    pathPrefix: '/',
    servers: peers.map((u) => ({ host: '127.0.0.1', port: u.port })),
    ...(hold ? { hold } : {}),
  });
  const table = (...routes: AppRoute[]): RouteTable => ({ routes });
  const holding = (timeoutSeconds = 10, startingPage = false) => ({ timeoutSeconds, startingPage });
  const activityOf = async (app: string) => (await channel.read(undefined, 0))?.apps[app];

  beforeAll(async () => {
    prefix = await mkdtemp(path.join(os.tmpdir(), 'autoserve-hold-e2e-'));
    port = await freePort();
    up = await startUpstream();
    // One worker: arrival order is kept per worker, so one worker makes it the whole order.
    nginx = new NginxProcess({ prefixDir: prefix, listen: { host: '127.0.0.1', port }, logger, nginxBin: '/usr/sbin/nginx', workerProcesses: 1 });
    await nginx.apply(table(route('sleepy', [], holding())));
    const support = nginx.holdSupport();
    if (support.kind !== 'yes') throw new Error(`no hold support: ${JSON.stringify(support)}`);
    channel = support.channel;
  });

  afterAll(async () => {
    try {
      await nginx?.stop();
    } finally {
      if (up) await new Promise((resolve) => up.server.close(resolve));
      if (prefix) await rm(prefix, { recursive: true, force: true });
    }
  });

  it('holds requests while the app has no peer, asks for a wake, and lets them go in arrival order once peers appear (no reload)', async () => {
    up.seen = [];
    const before = await channel.read(undefined, 0);
    const replies: Promise<Reply>[] = [];
    // Each request is sent once the one before it is held: the arrival order is the sending order
    // whatever the machine's speed (a busy client or nginx may otherwise reorder connections).
    for (let i = 0; i < 20; i++) {
      replies.push(request(port, 'sleepy.localhost', { path: `/${i}` }));
      await eventually(async () => expect((await activityOf('sleepy'))?.held).toBe(i + 1), { timeoutMs: 5_000, intervalMs: 5 });
    }
    await eventually(async () => expect((await activityOf('sleepy'))?.held).toBe(20));
    const activity = await channel.read(undefined, 0);
    expect(activity!.seq).toBeGreaterThan(before!.seq);
    expect(activity!.apps.sleepy).toMatchObject({ held: 20, inFlight: 20 });
    expect(activity!.apps.sleepy!.wakeRequestedAtMs).toBeGreaterThan(Date.now() - 10_000);
    expect(activity!.apps.sleepy!.lastArrivalMs).toBeGreaterThanOrEqual(activity!.apps.sleepy!.wakeRequestedAtMs!);
    expect(up.seen).toEqual([]);

    const peersAt = Date.now();
    const result = await nginx.apply(table(route('sleepy', [up], holding())));
    expect(result).toMatchObject({ reloaded: false, membershipChanged: true });
    const done = await Promise.all(replies);
    expect(done.map((r) => r.status)).toEqual(done.map(() => 200));
    expect(Math.max(...done.map((r) => r.atMs)) - peersAt).toBeLessThan(1_000);
    // Released in arrival order, a batch of 8 per poll: within a batch the upstream sees them in
    // whatever order their connections come up, so each lands within a batch of its place.
    expect([...up.seen].sort()).toEqual(done.map((_, i) => `/${i}`).sort());
    up.seen.forEach((p, position) => expect(Math.abs(Number(p.slice(1)) - position), `${p} at ${position}: ${up.seen.join(' ')}`).toBeLessThan(8));
    await eventually(async () => expect(await activityOf('sleepy')).toMatchObject({ held: 0, inFlight: 0 }));
    expect((await activityOf('sleepy'))?.wakeRequestedAtMs).toBeUndefined(); // served: no wake pending
  });

  it('the long poll returns as soon as a request asks for a wake', async () => {
    await nginx.apply(table(route('sleepy', [], holding(2))));
    const { seq } = (await channel.read(undefined, 0))!;
    const polling = channel.read(seq, 10_000);
    await sleep(200);
    const sentAt = Date.now();
    const held = request(port, 'sleepy.localhost');
    const woken = await polling;
    expect(Date.now() - sentAt).toBeLessThan(500);
    expect(woken!.seq).toBeGreaterThan(seq);
    expect(woken!.apps.sleepy!.held).toBe(1);
    expect((await held).status).toBe(503); // no peer came within its 2 s
  });

  it('answers 503 with the controller\'s reason at the wake timeout', async () => {
    await nginx.apply(table(route('sleepy', [], holding(1))));
    expect(await channel.publish({ sleepy: { kind: 'hold', reason: 'image "broken:v1" \\ not found' } }, {})).toBe(true);
    const started = Date.now();
    const reply = await request(port, 'sleepy.localhost');
    const waited = Date.now() - started;
    expect(reply.status).toBe(503);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(2_000);
    const body = JSON.parse(reply.body) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'wake_timeout', app: 'sleepy', waitedSeconds: 1 });
    expect(body.reason).toContain("image 'broken:v1' ' not found");
    const activity = await activityOf('sleepy');
    expect(activity?.timeouts).toBeGreaterThanOrEqual(1);
    expect(activity?.held).toBe(0);
  });

  it('a stopped app answers its held requests 503 at once, a removed one 404', async () => {
    await nginx.apply(table(route('sleepy', [], holding(20))));
    await channel.publish({}, {});
    const stopped = request(port, 'sleepy.localhost');
    await eventually(async () => expect((await activityOf('sleepy'))?.held).toBe(1));
    const stopAt = Date.now();
    await channel.publish({ sleepy: { kind: 'stop', reason: 'spec.state is down' } }, {});
    const stoppedReply = await stopped;
    expect(Date.now() - stopAt).toBeLessThan(1_000);
    expect(stoppedReply.status).toBe(503);
    expect(JSON.parse(stoppedReply.body)).toEqual({ error: 'app_stopped', app: 'sleepy', reason: 'spec.state is down' });

    await channel.publish({}, {});
    const removed = request(port, 'sleepy.localhost');
    await eventually(async () => expect((await activityOf('sleepy'))?.held).toBe(1));
    const removeAt = Date.now();
    await nginx.apply(table());
    const removedReply = await removed;
    expect(Date.now() - removeAt).toBeLessThan(3_000); // includes the reload
    expect(removedReply.status).toBe(404);
    expect(JSON.parse(removedReply.body)).toMatchObject({ error: 'app_removed', app: 'sleepy' });
  });

  it('gives browsers the starting page (and still asks for a wake); API clients are held', async () => {
    await nginx.apply(table(route('sleepy', [], holding(1, true))));
    const { seq } = (await channel.read(undefined, 0))!;
    const page = await request(port, 'sleepy.localhost', { accept: 'text/html,application/xhtml+xml' });
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['retry-after']).toBe('2');
    expect(page.body).toContain('<meta http-equiv="refresh" content="2">');
    expect(page.body).toContain('Starting sleepy');
    const after = (await channel.read(undefined, 0))!;
    expect(after.seq).toBeGreaterThan(seq);
    expect(after.apps.sleepy!.wakeRequestedAtMs).toBeDefined();
    const api = await request(port, 'sleepy.localhost', { accept: 'application/json' });
    expect(JSON.parse(api.body)).toMatchObject({ error: 'wake_timeout' });
    // A browser's form POST is held too: the page's reload would resend it as a GET, without its body.
    const post = await request(port, 'sleepy.localhost', { accept: 'text/html', method: 'POST' });
    expect(JSON.parse(post.body)).toMatchObject({ error: 'wake_timeout' });
  });

  it('a worker killed while it holds a request leaves no held or in-flight count behind', async () => {
    await nginx.apply(table(route('sleepy', [], holding(20))));
    const held = request(port, 'sleepy.localhost').catch(() => undefined);
    await eventually(async () => expect((await activityOf('sleepy'))?.held).toBe(1));
    const workers = (await nginxProcessesUnder(prefix)).filter((p) => p.title.includes('worker process'));
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers) process.kill(w.pid, 'SIGKILL');
    await held; // its connection dies with the worker
    // The master starts a new worker; the dead one's counts go with its pid.
    await eventually(async () => {
      const a = await activityOf('sleepy');
      expect(a?.held ?? 0).toBe(0);
      expect(a?.inFlight ?? 0).toBe(0);
    }, { timeoutMs: 10_000 });
  });

  it('counts requests in flight until they are answered, and every arrival', async () => {
    await nginx.apply(table(route('sleepy', [up], holding())));
    up.delayMs = 1_500;
    try {
      const sentAt = Date.now();
      const slow = request(port, 'sleepy.localhost');
      await eventually(async () => expect((await activityOf('sleepy'))?.inFlight).toBe(1));
      const during = await activityOf('sleepy');
      expect(during!.held).toBe(0);
      expect(during!.lastArrivalMs).toBeGreaterThanOrEqual(sentAt - 5);
      expect((await slow).status).toBe(200);
      await eventually(async () => expect((await activityOf('sleepy'))?.inFlight).toBe(0));
    } finally {
      up.delayMs = 0;
    }
  });

  it('clears a wake only when asked for at or before the given time, and refuses bad POST lines', async () => {
    await nginx.apply(table(route('sleepy', [], holding(1))));
    await request(port, 'sleepy.localhost');
    const wake = (await activityOf('sleepy'))!.wakeRequestedAtMs!;
    expect(wake).toBeDefined();
    await channel.publish({}, { sleepy: wake - 1_000 });
    expect((await activityOf('sleepy'))!.wakeRequestedAtMs).toBe(wake);
    await channel.publish({}, { sleepy: wake });
    expect((await activityOf('sleepy'))!.wakeRequestedAtMs).toBeUndefined();
    for (const body of ['state Bad; hold x\n', 'clear sleepy soon\n', 'drop everything\n']) {
      const reply = await new Promise<number>((resolve, reject) => {
        const req = http.request({ socketPath: nginx.controlSocket, path: ACTIVITY_PATH, method: 'POST', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(reply, body).toBe(400);
    }
  });
});
