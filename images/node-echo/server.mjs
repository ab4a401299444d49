// node-echo: a keep-alive HTTP test backend for AutoServe's end-to-end tests.
//
// Routes:
//   GET /healthz      200 "ok" (503 "failing" when FAIL_HEALTH=1: a never-healthy app)
//   GET /             200 JSON { hostname, version, pid }
//   GET /work?ms=N    busy-loops the CPU for N ms (max 1000), then replies like "/"
//   GET /sleep?ms=N   waits N ms (max 10000) without using CPU, then replies like "/"
//
// SIGTERM/SIGINT: stop accepting connections, close idle keep-alive sockets, answer in-flight
// requests with "Connection: close", exit 0 once the last one finishes (or exit 1 after
// SHUTDOWN_TIMEOUT_MS, default 30000, if a request never finishes).
import http from 'node:http';
import os from 'node:os';

const port = Number(process.env.PORT || 8080);
const version = process.env.VERSION || 'v1';
const failHealth = process.env.FAIL_HEALTH === '1';
const shutdownTimeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS || 30_000);
const MAX_WORK_MS = 1000;
const MAX_SLEEP_MS = 10_000;

let shuttingDown = false;

function boundedMs(url, max) {
  const n = Number(url.searchParams.get('ms') ?? 0);
  if (!Number.isFinite(n) || n < 0) return 0;
  return Math.min(Math.floor(n), max);
}

function reply(res, status, body, contentType) {
  const headers = { 'content-type': contentType, 'content-length': Buffer.byteLength(body) };
  if (shuttingDown) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

function identity(extra) {
  return JSON.stringify({ hostname: os.hostname(), version, pid: process.pid, ...extra }) + '\n';
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  switch (url.pathname) {
    case '/healthz':
      if (failHealth) reply(res, 503, 'failing\n', 'text/plain');
      else reply(res, 200, 'ok\n', 'text/plain');
      return;
    case '/': {
      reply(res, 200, identity(), 'application/json');
      return;
    }
    case '/work': {
      const ms = boundedMs(url, MAX_WORK_MS);
      const end = performance.now() + ms;
      let spins = 0;
      while (performance.now() < end) spins++;
      reply(res, 200, identity({ workedMs: ms, spins }), 'application/json');
      return;
    }
    case '/sleep': {
      const ms = boundedMs(url, MAX_SLEEP_MS);
      setTimeout(() => reply(res, 200, identity({ sleptMs: ms }), 'application/json'), ms);
      return;
    }
    default:
      reply(res, 404, 'not found\n', 'text/plain');
  }
});

// Keep idle keep-alive sockets open longer than a typical proxy's upstream keepalive_timeout
// (nginx: 60 s), so the proxy, not the backend, closes idle connections.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.listen(port, '0.0.0.0', () => {
  console.log(JSON.stringify({ msg: 'listening', port, version, pid: process.pid }));
});

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(JSON.stringify({ msg: 'shutting down', signal }));
  server.close(() => {
    console.log(JSON.stringify({ msg: 'closed' }));
    process.exit(0);
  });
  server.closeIdleConnections();
  // Sockets that become idle after their in-flight response are closed by "Connection: close".
  setTimeout(() => {
    console.log(JSON.stringify({ msg: 'shutdown timeout, exiting' }));
    process.exit(1);
  }, shutdownTimeoutMs).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
