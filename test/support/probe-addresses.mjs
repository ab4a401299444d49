// Fixed-rate GETs straight to replica addresses (no nginx), for a run *on* a test node, where the
// node's container addresses are reachable: `node probe-addresses.mjs '<json>'` with
// { targets: ["10.0.0.2:8080", ...], ratePerSec, durationMs, timeoutMs }. Prints one JSON line:
// { sent, ok, failed, failures: [{ target, atMs, error }] (first 20) }. Bounded in count and time.
import http from 'node:http';

const { targets, ratePerSec, durationMs, timeoutMs = 2000 } = JSON.parse(process.argv[2]);
const started = Date.now();
const result = { sent: 0, ok: 0, failed: 0, failures: [] };
const pending = new Set();

function get(target) {
  const [host, port] = target.split(':');
  const atMs = Date.now() - started;
  result.sent++;
  const done = new Promise((resolve) => {
    const fail = (error) => {
      result.failed++;
      if (result.failures.length < 20) result.failures.push({ target, atMs, error });
      resolve();
    };
    const req = http.get({ host, port: Number(port), path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? (result.ok++, resolve()) : fail(`HTTP ${res.statusCode}`)));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => fail(err.code ?? err.message));
  });
  pending.add(done);
  void done.then(() => pending.delete(done));
}

let i = 0;
const timer = setInterval(() => {
  if (Date.now() - started >= durationMs) {
    clearInterval(timer);
    void Promise.all([...pending]).then(() => console.log(JSON.stringify(result)));
    return;
  }
  get(targets[i++ % targets.length]);
}, 1000 / ratePerSec);
