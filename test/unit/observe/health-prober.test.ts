// Health thresholds against a real in-process HTTP server whose /healthz answer the test flips.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReplicaHealth } from '../../../src/core/replica.js';
import type { HealthSpec } from '../../../src/manifest/types.js';
import { HealthProber, nextHealth, probeHttp, probeTcp, type HealthChange, type ProbeFailure } from '../../../src/observe/health-prober.js';
import { eventually } from '../../support/eventually.js';

const health = (over: Partial<HealthSpec> = {}): HealthSpec => ({
  httpGet: { path: '/healthz', port: 8080 },
  intervalSeconds: 1,
  timeoutSeconds: 1,
  failureThreshold: 2,
  successThreshold: 1,
  replaceAfterSeconds: 30,
  ...over,
});

describe('HealthProber', () => {
  let server: http.Server;
  let port: number;
  let status: number;
  let hits: number;
  let prober: HealthProber;
  let changes: HealthChange[];

  beforeEach(async () => {
    status = 200;
    hits = 0;
    changes = [];
    server = http.createServer((_req, res) => {
      hits++;
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    prober = new HealthProber((change) => changes.push(change));
  });
  afterEach(async () => {
    prober.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a replica becomes ready after successThreshold passes, and is probed often while starting', async () => {
    prober.sync('web', [{ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health({ successThreshold: 2 }) }]);
    expect(prober.health('a')).toBe('starting');
    expect(prober.hasResult('a')).toBe(false);
    await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    expect(hits).toBeGreaterThanOrEqual(2);
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(['starting->ready']);
  });

  it('new check settings for the same replica keep its readiness; the new settings decide from the next check', async () => {
    const target = (over: Partial<HealthSpec>) => ({ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health(over) });
    prober.sync('web', [target({})]);
    await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    prober.sync('web', [target({ intervalSeconds: 2 })]);
    expect(prober.health('a')).toBe('ready'); // not back to "starting": it stays in the rotation
    prober.sync('web', [target({ intervalSeconds: 2, httpGet: { path: '/gone', port: 8080 } })]);
    status = 404;
    await eventually(() => expect(prober.health('a')).toBe('not-ready'), { timeoutMs: 8_000 });
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(['starting->ready', 'ready->not-ready']);
    expect(prober.lastResult('a')?.detail).toBe('GET /gone -> 404');
  });

  it('a never-passing replica stays starting (the rollout deadline, not the prober, gives up on it)', async () => {
    status = 503;
    prober.sync('web', [{ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health() }]);
    await eventually(() => expect(hits).toBeGreaterThanOrEqual(4), { timeoutMs: 3_000 });
    expect(prober.health('a')).toBe('starting');
    expect(prober.hasResult('a')).toBe(true);
    expect(changes).toEqual([]);
  });

  it('readiness: after failureThreshold failures a ready replica leaves the rotation (not-ready), is still probed, and comes back on a pass', async () => {
    prober.sync('web', [{ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health({ failureThreshold: 2 }) }]);
    await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    status = 500;
    await eventually(() => expect(prober.health('a')).toBe('not-ready'), { timeoutMs: 5_000 });
    expect(changes.at(-1)).toMatchObject({ from: 'ready', to: 'not-ready', detail: 'GET /healthz -> 500' });
    expect(prober.lastResult('a')).toMatchObject({ ok: false, detail: 'GET /healthz -> 500' });
    const after = hits;
    await eventually(() => expect(hits).toBeGreaterThan(after), { timeoutMs: 3_000 });
    status = 200;
    await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    expect(changes.map((c) => c.to)).toEqual(['ready', 'not-ready', 'ready']);
  });

  it('liveness: failing every check for replaceAfterSeconds makes it unhealthy (replaced), and probing stops', async () => {
    prober.sync('web', [{ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health({ failureThreshold: 1, replaceAfterSeconds: 2 }) }]);
    await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    status = 500;
    const failedAt = Date.now();
    await eventually(() => expect(prober.health('a')).toBe('unhealthy'), { timeoutMs: 6_000 });
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(1_900);
    expect(changes.map((c) => c.to)).toEqual(['ready', 'not-ready', 'unhealthy']);
    const after = hits;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(hits).toBe(after);
  });

  it('reports failed checks with the probe result at most once per interval; a starting replica only after a whole interval of failures', async () => {
    const failures: ProbeFailure[] = [];
    const reporting = new HealthProber({ onChange: () => {}, onFailure: (f) => failures.push(f) });
    try {
      status = 404;
      reporting.sync('web', [{ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health() }]);
      const synced = performance.now();
      await new Promise((r) => setTimeout(r, 600)); // probed every 250 ms while starting: not reported yet
      if (performance.now() - synced < 950) expect(failures).toEqual([]); // (a stalled runner may be past the interval)
      await eventually(() => expect(failures.length).toBeGreaterThanOrEqual(2), { timeoutMs: 4_000 });
      expect(failures[0]).toMatchObject({ health: 'starting', detail: 'GET /healthz -> 404' });
      expect(failures.length).toBeLessThanOrEqual(3); // one per 1 s interval, though probed 4x a second
    } finally {
      reporting.close();
    }
  });

  it('a pass now and then resets the replace-after clock: a busy replica is never replaced for being busy', async () => {
    prober.sync('web', [{ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health({ failureThreshold: 1, replaceAfterSeconds: 3 }) }]);
    await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    for (let round = 0; round < 2; round++) {
      status = 500;
      await new Promise((r) => setTimeout(r, 2_200));
      status = 200;
      await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    }
    expect(changes.some((c) => c.to === 'unhealthy')).toBe(false);
  });

  it('one failure between passes does not take a replica out of the rotation', async () => {
    prober.sync('web', [{ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health({ failureThreshold: 2 }) }]);
    await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    status = 500;
    const failedAt = hits;
    await eventually(() => expect(hits).toBeGreaterThan(failedAt), { timeoutMs: 3_000 });
    status = 200;
    await new Promise((r) => setTimeout(r, 2_500));
    expect(prober.health('a')).toBe('ready');
  });

  it('sync forgets replicas that are gone', async () => {
    prober.sync('web', [{ id: 'a', app: 'web', name: 'web-a', address: { host: '127.0.0.1', port }, health: health() }]);
    await eventually(() => expect(prober.health('a')).toBe('ready'), { timeoutMs: 3_000 });
    prober.sync('web', []);
    expect(prober.hasResult('a')).toBe(false);
    expect(prober.health('a')).toBe('starting');
  });
});

describe('probeTcp', () => {
  it('through a proxy (a published port): passes for a listening port, fails for one that closes at once (as docker-proxy does with nothing behind it)', async () => {
    const listening = http.createServer();
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const closing = (await import('node:net')).createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    try {
      expect((await probeTcp({ host: '127.0.0.1', port: (listening.address() as AddressInfo).port, proxied: true })).ok).toBe(true);
      expect((await probeTcp({ host: '127.0.0.1', port: (closing.address() as AddressInfo).port, proxied: true })).ok).toBe(false);
    } finally {
      listening.close();
      closing.close();
    }
  });

  it('at a direct address: a connect is proof at once, a closed port fails at once', async () => {
    const listening = http.createServer();
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const port = (listening.address() as AddressInfo).port;
    try {
      const started = performance.now();
      expect((await probeTcp({ host: '127.0.0.1', port })).ok).toBe(true);
      expect(performance.now() - started).toBeLessThan(500); // no settle wait (that would be >= 1 s)
    } finally {
      listening.close();
    }
    const refused = await probeTcp({ host: '127.0.0.1', port });
    expect(refused.ok).toBe(false);
    expect(refused.detail).toBe('tcp: connection refused');
  });
});

describe('nextHealth (one check\'s effect)', () => {
  const t = { successThreshold: 2, failureThreshold: 2, replaceAfterMs: 10_000 };
  const rows: { name: string; from: ReplicaHealth; successes?: number; failures?: number; failingSinceMs?: number; ok: boolean; now?: number; to: ReplicaHealth }[] = [
    { name: 'starting, first pass of two', from: 'starting', ok: true, to: 'starting' },
    { name: 'starting, second pass in a row', from: 'starting', successes: 1, ok: true, to: 'ready' },
    { name: 'starting, failures never make it unhealthy (the rollout deadline decides)', from: 'starting', failures: 50, failingSinceMs: 0, now: 100_000, ok: false, to: 'starting' },
    { name: 'ready, one failure', from: 'ready', ok: false, to: 'ready' },
    { name: 'ready, failureThreshold failures: out of rotation', from: 'ready', failures: 1, failingSinceMs: 0, now: 1_000, ok: false, to: 'not-ready' },
    { name: 'ready, failing already past the liveness window: replaced at once', from: 'ready', failures: 1, failingSinceMs: 0, now: 10_000, ok: false, to: 'unhealthy' },
    { name: 'failing, still within replaceAfterSeconds', from: 'not-ready', failures: 5, failingSinceMs: 0, now: 9_999, ok: false, to: 'not-ready' },
    { name: 'failing for replaceAfterSeconds: liveness replaces it', from: 'not-ready', failures: 5, failingSinceMs: 0, now: 10_000, ok: false, to: 'unhealthy' },
    { name: 'failing, successThreshold passes: back in rotation', from: 'not-ready', successes: 1, ok: true, to: 'ready' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const state = { health: row.from, successes: row.successes ?? 0, failures: row.failures ?? 0, failingSinceMs: row.failingSinceMs };
      expect(nextHealth(state, row.ok, row.now ?? 0, t)).toBe(row.to);
    });
  }
});

describe('probeHttp results read as an operator searches for them', () => {
  it('connection refused, and a timeout after the configured seconds', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await probeHttp({ host: '127.0.0.1', port: closedPort }, health())).toEqual({ ok: false, detail: 'GET /healthz: connection refused' });

    const silent = http.createServer(() => {}); // never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const result = await probeHttp({ host: '127.0.0.1', port: (silent.address() as AddressInfo).port }, health({ timeoutSeconds: 1 }));
      expect(result).toEqual({ ok: false, detail: 'GET /healthz: timeout after 1s' });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('an endless body (a stream) answers by its status and holds no connection beyond the probe\'s seconds', async () => {
    let open = 0;
    const streaming = http.createServer((_req, res) => {
      open++;
      res.on('close', () => open--);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: tick\n\n'), 10);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => streaming.listen(0, '127.0.0.1', resolve));
    try {
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 5 }, () => probeHttp({ host: '127.0.0.1', port: (streaming.address() as AddressInfo).port }, health({ timeoutSeconds: 1 }))));
      expect(results).toEqual(results.map(() => ({ ok: true, detail: 'GET /healthz -> 200' })));
      expect(performance.now() - started).toBeLessThan(900); // by the status line, not the end of the body
      await eventually(() => expect(open).toBe(0), { timeoutMs: 3_000 });
    } finally {
      streaming.closeAllConnections();
      streaming.close();
    }
  });

  it('headers trickled a byte at a time fail at the probe\'s seconds in all, not at the first idle second', async () => {
    const trickle = (await import('node:net')).createServer((socket) => {
      const text = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n';
      let i = 0;
      const timer = setInterval(() => (i < text.length ? socket.write(text[i++]!) : clearInterval(timer)), 200);
      socket.on('close', () => clearInterval(timer));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
    try {
      const started = performance.now();
      const result = await probeHttp({ host: '127.0.0.1', port: (trickle.address() as { port: number }).port }, health({ timeoutSeconds: 1 }));
      expect(result).toEqual({ ok: false, detail: 'GET /healthz: timeout after 1s' });
      expect(performance.now() - started).toBeLessThan(2_500);
    } finally {
      trickle.close();
    }
  });
});
