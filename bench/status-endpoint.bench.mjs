// Endpoint cost bench (run `npm run build` first; uses dist/).
//
//   node bench/status-endpoint.bench.mjs [--duration 5] [--idle 60] [--settle 10] [--profile DIR]
//
// --profile DIR: the idle daemon runs with node --cpu-prof and writes its profile to DIR at exit.
//
// 1. GET /apps/{name}/status with 100 apps in the store: the API server runs in this process,
//    the load comes from wrk in a separate process (wrk -t1 -c16 -d5s).
// 2. The daemon's idle cost with 100 apps (replicas: 0, so no containers): starts
//    `node dist/cli/main.js run` on a temp manifests dir, waits until every app is recorded, then
//    samples /proc/<pid>/stat CPU ticks and VmRSS over --idle seconds.
// Prints a markdown table. Targets: >= 2,000 status req/s; idle < 1% of a core, < 150 MB RSS.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import pino from 'pino';
import { createApiServer, listen, closeServer } from '../dist/api/server.js';
import { AutoserveMetrics } from '../dist/observe/metrics.js';
import { Store } from '../dist/store/store.js';
import { assertDistFresh } from './dist-fresh.mjs';

assertDistFresh(); // this bench runs the built CLI

const run = promisify(execFile);
const APPS = 100;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const WRK_SECONDS = arg('duration', 5);
const IDLE_SECONDS = arg('idle', 60);
const SETTLE_SECONDS = arg('settle', 10);
const PROFILE_DIR = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;
const CLK_TCK = 100; // getconf CLK_TCK on Linux

function appName(i) {
  return `app-${String(i).padStart(3, '0')}`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function statusThroughput(root) {
  const logger = pino({ level: 'silent' });
  const store = await Store.open(join(root, 'bench-store.json'), logger);
  for (let i = 0; i < APPS; i++) {
    store.updateApp(appName(i), (s) => {
      s.phase = 'Running';
      s.replicas = { desired: 2, ready: 2, updated: 2 };
      s.containerRevision = '0123456789';
      s.conditions.push({ type: 'Ready', status: 'True', reason: 'ReplicasReady', message: '2/2 replicas ready', lastTransitionTime: new Date().toISOString() });
      for (let slot = 0; slot < 2; slot++) {
        s.instances.push({ id: `c${i}${slot}`, name: `autoserve-${appName(i)}-0123456789-${slot}`, revision: '0123456789', slot, state: 'running', health: 'ready', draining: false, hostPort: 30000 + i * 2 + slot, startedAt: new Date().toISOString() });
      }
    });
  }
  const server = createApiServer({
    store,
    docker: new Docker(),
    instance: 'bench',
    isReady: () => true,
    manifestsDir: join(root, 'none'),
    metrics: new AutoserveMetrics({ apps: () => store.apps(), processMetrics: false }),
    enableWriteApi: false,
    logger,
  });
  const port = await listen(server, '127.0.0.1', 0);
  // wrk runs in its own process; this process only serves.
  const wrk = spawn('wrk', ['-t1', '-c16', `-d${WRK_SECONDS}s`, '--latency', `http://127.0.0.1:${port}/apps/${appName(42)}/status`]);
  let output = '';
  wrk.stdout.on('data', (d) => (output += d));
  await new Promise((resolve, reject) => {
    wrk.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`wrk exited ${code}: ${output}`))));
    wrk.on('error', reject);
  });
  await closeServer(server);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? NaN);
  const p50 = /50%\s+(\S+)/.exec(output)?.[1] ?? '?';
  const p99 = /99%\s+(\S+)/.exec(output)?.[1] ?? '?';
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? '0';
  return { rps, p50, p99, non2xx };
}

async function cpuTicks(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of stat)
}

async function rssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function daemonIdle(root) {
  const manifests = join(root, 'manifests');
  const state = join(root, 'state');
  await mkdir(manifests, { recursive: true });
  for (let i = 0; i < APPS; i++) {
    const name = appName(i);
    await writeFile(join(manifests, `${name}.yaml`), [
      'apiVersion: v1', 'kind: App', 'metadata:', `  name: ${name}`, 'spec:', '  type: http',
      '  image: autoserve-demo:v1', '  replicas: 0', '  ports:', '    - containerPort: 8080', '',
    ].join('\n'));
  }
  const port = await freePort();
  const lbPort = await freePort();
  const daemon = spawn(process.execPath, [
    ...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []),
    'dist/cli/main.js', 'run', '--manifests', manifests, '--state', state, '--port', String(port),
    '--lb-port', String(lbPort), '--log-level', 'warn', '--instance', `bench-${process.pid}`,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    // Ready: every app has a record (the store file is written within ~100 ms of a change).
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (daemon.exitCode !== null) throw new Error(`daemon exited with ${daemon.exitCode}`);
      const text = await readFile(join(state, 'autoserve.json'), 'utf8').catch(() => '{}');
      const apps = Object.values(JSON.parse(text).apps ?? {});
      if (apps.length === APPS && apps.every((a) => a.phase === 'Stopped' || a.phase === 'Running')) break;
      if (Date.now() > deadline) throw new Error(`daemon not settled after 60 s (${apps.length} apps recorded)`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000)); // let start-up work (first passes, log backfill, GC) finish
    const startTicks = await cpuTicks(daemon.pid);
    const startedAt = Date.now();
    let maxRss = 0;
    while (Date.now() - startedAt < IDLE_SECONDS * 1000) {
      maxRss = Math.max(maxRss, await rssMb(daemon.pid));
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const seconds = (Date.now() - startedAt) / 1000;
    const cpuPct = ((await cpuTicks(daemon.pid)) - startTicks) / CLK_TCK / seconds * 100;
    return { cpuPct, maxRss, seconds };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r)).catch(() => undefined);
    await run(process.execPath, ['dist/cli/main.js', 'stop-lb', '--state', state]).catch(() => undefined);
  }
}

const root = await mkdtemp(join(tmpdir(), 'autoserve-bench-'));
try {
  const status = await statusThroughput(root);
  const idle = await daemonIdle(root);
  const ok = (v) => (v ? 'yes' : 'NO');
  console.log('| measure | result | target | met |');
  console.log('|---|---|---|---|');
  console.log(`| GET /apps/{name}/status, 100 apps (wrk -t1 -c16 -d${WRK_SECONDS}s) | ${status.rps.toFixed(0)} req/s (p50 ${status.p50}, p99 ${status.p99}, non-2xx ${status.non2xx}) | >= 2,000 req/s | ${ok(status.rps >= 2000)} |`);
  console.log(`| daemon idle CPU, 100 apps, ${idle.seconds.toFixed(0)} s | ${idle.cpuPct.toFixed(2)} % of a core | < 1 % | ${ok(idle.cpuPct < 1)} |`);
  console.log(`| daemon RSS, 100 apps (max over the window) | ${idle.maxRss.toFixed(0)} MB | < 150 MB | ${ok(idle.maxRss < 150)} |`);
} finally {
  await rm(root, { recursive: true, force: true });
}
