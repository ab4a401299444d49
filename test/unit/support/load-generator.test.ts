import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LoadGenerator, runLoad, summarize } from '../../support/load-generator.js';
import { freePort } from '../../support/free-port.js';

const servers: http.Server[] = [];

/** An in-process HTTP server on 127.0.0.1; closed after each test. */
async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 30_000;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('LoadGenerator', () => {
  it('sends at the given rate and counts responses per upstream hostname', async () => {
    let n = 0;
    const hosts: string[] = [];
    const port = await serve((req, res) => {
      hosts.push(req.headers.host ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ hostname: n++ % 2 === 0 ? 'a' : 'b' }));
    });
    const started = Date.now();
    const result = await runLoad({ port, hostHeader: 'web.localhost', ratePerSec: 100, maxRequests: 40 });
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ sent: 40, ok: 40, failed: 0, keepAliveRetries: 0, statuses: { 200: 40 } });
    expect(result.byUpstream).toEqual({ a: 20, b: 20 });
    expect(result.latenciesMs.count).toBe(40);
    expect(result.latenciesMs.p99).toBeGreaterThanOrEqual(result.latenciesMs.p50);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(hosts.every((h) => h === 'web.localhost')).toBe(true);
  });

  it('counts 5xx as failures and lets the caller decide about other statuses', async () => {
    const port = await serve((req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 502;
      res.end('nope');
    });
    const bad = await runLoad({ port, ratePerSec: 200, maxRequests: 5 });
    expect(bad).toMatchObject({ sent: 5, ok: 0, failed: 5, statuses: { 502: 5 } });
    expect(bad.failures[0]).toMatchObject({ kind: 'status', status: 502 });

    const missingDefault = await runLoad({ port, path: '/missing', ratePerSec: 200, maxRequests: 3 });
    expect(missingDefault).toMatchObject({ ok: 3, failed: 0, statuses: { 404: 3 } });
    const missingStrict = await runLoad({
      port,
      path: '/missing',
      ratePerSec: 200,
      maxRequests: 3,
      isOk: (s) => s < 400,
    });
    expect(missingStrict).toMatchObject({ ok: 0, failed: 3 });
  });

  it('records a timeout when no response arrives in time', async () => {
    const port = await serve((req, res) => {
      if (req.url === '/hang') return; // never answers
      res.end('ok');
    });
    const result = await runLoad({ port, path: (i) => (i === 0 ? '/hang' : '/'), ratePerSec: 50, maxRequests: 3, timeoutMs: 200 });
    expect(result).toMatchObject({ sent: 3, ok: 2, failed: 1 });
    expect(result.failures[0]).toMatchObject({ kind: 'timeout', atMs: expect.any(Number) });
  });

  it('retries a request reset on a reused keep-alive socket once, on a fresh connection', async () => {
    const requestsPerSocket = new WeakMap<object, number>();
    let resets = 0;
    const port = await serve((req, res) => {
      const count = (requestsPerSocket.get(req.socket) ?? 0) + 1;
      requestsPerSocket.set(req.socket, count);
      if (count === 2) {
        // The server "closed the idle connection" as the client reused it: no response byte.
        resets++;
        req.socket.destroy();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ hostname: 'a' }));
    });
    const result = await runLoad({ port, ratePerSec: 50, maxRequests: 10, maxSockets: 1 });
    expect(resets).toBeGreaterThan(0);
    expect(result).toMatchObject({ sent: 10, ok: 10, failed: 0, keepAliveRetries: resets });
    expect(result.byUpstream).toEqual({ a: 10 });
  });

  it('counts a failed keep-alive retry, and a reset on a fresh connection, as connection failures', async () => {
    const port = await serve((req) => {
      req.socket.destroy();
    });
    const result = await runLoad({ port, ratePerSec: 50, maxRequests: 4, maxSockets: 1 });
    expect(result).toMatchObject({ sent: 4, ok: 0, failed: 4 });
    expect(result.failures.every((f) => f.kind === 'connection')).toBe(true);
  });

  it('counts a connection broken after some response bytes as a failure, not a keep-alive reset', async () => {
    let n = 0;
    const port = await serve((_req, res) => {
      if (n++ === 0) {
        res.end('ok');
        return;
      }
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const result = await runLoad({ port, ratePerSec: 20, maxRequests: 2, maxSockets: 1 });
    expect(result).toMatchObject({ sent: 2, ok: 1, failed: 1, keepAliveRetries: 0 });
    expect(result.failures[0]?.kind).toBe('connection');
  });

  it('records refused connections', async () => {
    const port = await freePort();
    const result = await runLoad({ port, ratePerSec: 50, maxRequests: 2 });
    expect(result).toMatchObject({ sent: 2, ok: 0, failed: 2 });
    expect(result.failures[0]?.detail).toContain('ECONNREFUSED');
  });

  it('stops early on stop() and finishes in-flight requests', async () => {
    const port = await serve((_req, res) => {
      setTimeout(() => res.end('ok'), 50);
    });
    const load = new LoadGenerator({ port, ratePerSec: 100, durationMs: 10_000 });
    const running = load.run();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    load.stop();
    const result = await running;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.sent).toBeGreaterThan(5);
    expect(result.sent).toBeLessThan(100);
    expect(result.ok).toBe(result.sent);
  });

  it('stops after durationMs', async () => {
    const port = await serve((_req, res) => res.end('ok'));
    const result = await runLoad({ port, ratePerSec: 100, durationMs: 300 });
    expect(result.sent).toBeGreaterThanOrEqual(15);
    expect(result.sent).toBeLessThanOrEqual(32);
    expect(result.failed).toBe(0);
  });
});

describe('summarize', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(values)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(summarize([])).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });
});
