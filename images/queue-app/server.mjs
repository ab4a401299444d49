// queue-app: a test backend that queues the way the autoscaling simulator's model does, for the
// simulator's calibration and the latency-driven scaling test.
//
//   GET /healthz      200 "ok", answered at once (outside the worker pool)
//   GET /serve?ms=N   holds one of WORKERS workers for N ms (max 10000; no CPU used), then 200 JSON;
//                     a request that finds every worker busy waits in a FIFO queue
//
// WORKERS (default 4) is the simulator's --concurrency-per-replica; the client picks the service
// time per request, so a trace's service_time_ms column (and a latency shift) is replayed as is.
// SIGTERM/SIGINT: stop accepting, finish what is queued or in service, exit 0.
import http from 'node:http';
import os from 'node:os';

const port = Number(process.env.PORT || 8080);
const workers = Math.max(1, Number(process.env.WORKERS || 4));
const MAX_MS = 10_000;

let busy = 0;
const waiting = [];
let shuttingDown = false;

function release() {
  busy--;
  const next = waiting.shift();
  if (next) next();
}

function acquire(run) {
  if (busy < workers) {
    busy++;
    run();
  } else {
    waiting.push(() => {
      busy++;
      run();
    });
  }
}

function reply(res, status, body, contentType) {
  const headers = { 'content-type': contentType, 'content-length': Buffer.byteLength(body) };
  if (shuttingDown) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') return reply(res, 200, 'ok\n', 'text/plain');
  if (url.pathname !== '/serve') return reply(res, 404, 'not found\n', 'text/plain');
  const n = Number(url.searchParams.get('ms') ?? 0);
  const ms = Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), MAX_MS) : 0;
  const queuedAt = performance.now();
  acquire(() => {
    const waitedMs = Math.round(performance.now() - queuedAt);
    setTimeout(() => {
      release();
      reply(res, 200, JSON.stringify({ hostname: os.hostname(), servedMs: ms, waitedMs }) + '\n', 'application/json');
    }, ms);
  });
});

server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(port, '0.0.0.0', () => console.log(JSON.stringify({ msg: 'listening', port, workers })));

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(JSON.stringify({ msg: 'shutting down', signal }));
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(1), 30_000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
