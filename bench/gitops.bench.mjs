#!/usr/bin/env node
// GitOps benchmark: seconds from `git push` to the app serving the new revision through nginx, and
// the CPU an idle git source costs.
//
//   npm run build && node bench/gitops.bench.mjs [--runs 5] [--interval 2s] [--idle-seconds 60]
//
// It needs Docker, nginx, the images autoserve-demo:v1/v2 (scripts/build-images.sh) and dist/
// with the git wiring. Everything lives in a temp dir; containers carry a unique autoserve.bench
// label and are removed at the end (also on Ctrl-C), the daemon is stopped and its nginx master
// stopped with `autoserve stop-lb`.
//
// Push to serving: a local bare repository (file:// URL) and a work clone; each run commits the
// other image (v1 <-> v2) and times from just before `git push` until GET /version with Host
// web.localhost answers the new version. Target: median < interval + 3 s.
// Idle cost: after the last run, no commits for --idle-seconds; utime+stime of the daemon process
// from /proc/<pid>/stat, with and without its reaped children (the git processes it ran). It is the
// daemon's whole idle CPU (periodic resync, Docker event stream, the git polls), not git alone;
// nginx is a separate process and not included.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { assertDistFresh } from './dist-fresh.mjs';

assertDistFresh(); // this bench runs the built CLI

const exec = promisify(execFile);
const ROOT_DIR = resolve(new URL('..', import.meta.url).pathname);
const CLI = join(ROOT_DIR, 'dist', 'cli', 'main.js');
const APP = 'web';
const HOST = `${APP}.localhost`;
const SETUP_TIMEOUT_MS = 120_000;
const RUN_TIMEOUT_MS = 60_000;
const POLL_MS = 50;

const args = parseArgs(process.argv.slice(2));
const RUNS = Number(args.runs ?? 5);
const INTERVAL = String(args.interval ?? '2s');
const INTERVAL_MS = parseDurationMs(INTERVAL);
const IDLE_SECONDS = Number(args['idle-seconds'] ?? 60);
const BENCH_ID = `gitops-${process.pid}-${randomBytes(3).toString('hex')}`;
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@autoserve.invalid',
  GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@autoserve.invalid',
  GIT_TERMINAL_PROMPT: '0',
};

let root;
let daemon;
let stateDir;
let cleaned = false;

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  root = await mkdtemp(join(tmpdir(), 'autoserve-bench-gitops-'));
  const bare = join(root, 'remote.git');
  const work = join(root, 'work');
  stateDir = join(root, 'state');
  await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  await git(root, 'init', '--quiet', '--initial-branch=main', work);
  await git(work, 'remote', 'add', 'origin', bare);
  await commitVersion(work, 'v1');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');

  const lbPort = await freePort();
  const statusPort = await freePort();
  daemon = spawn(process.execPath, [
    CLI, 'run',
    '--git', `file://${bare}`, '--git-branch', 'main', '--git-path', 'apps', '--git-interval', INTERVAL,
    '--manifests', join(root, 'unused-manifests'), '--state', stateDir,
    '--lb-port', String(lbPort), '--port', String(statusPort),
    '--instance', BENCH_ID, '--container-labels', JSON.stringify({ 'autoserve.bench': BENCH_ID }),
    '--log-level', 'warn',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  daemon.on('exit', (code, signal) => {
    if (!cleaned) console.error(`[bench] daemon exited early (code ${code}, signal ${signal})`);
  });
  log(`daemon pid ${daemon.pid}, lb port ${lbPort}, interval ${INTERVAL}, state ${stateDir}`);

  await waitForVersion(lbPort, 'v1', SETUP_TIMEOUT_MS);
  log('web serves v1; starting runs');

  const seconds = [];
  let current = 'v1';
  for (let i = 1; i <= RUNS; i++) {
    const next = current === 'v1' ? 'v2' : 'v1';
    await commitVersion(work, next);
    const started = performance.now();
    await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    await waitForVersion(lbPort, next, RUN_TIMEOUT_MS);
    const s = (performance.now() - started) / 1000;
    seconds.push(s);
    current = next;
    log(`run ${i}/${RUNS}: push -> serving ${next} in ${s.toFixed(2)} s`);
    await sleep(1_000); // let the old replica drain before the next push
  }

  log(`idle: ${IDLE_SECONDS} s with no commits`);
  await sleep(5_000); // settle: drains, nginx reloads
  const before = await cpuTicks(daemon.pid);
  const t0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const after = await cpuTicks(daemon.pid);
  const elapsedS = (performance.now() - t0) / 1000;
  const hz = Number((await exec('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const selfS = (after.self - before.self) / hz;
  const withChildrenS = selfS + (after.children - before.children) / hz;
  const perHour = (cpu) => (cpu / elapsedS) * 3600;

  const sorted = [...seconds].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const targetS = INTERVAL_MS / 1000 + 3;
  const summary = {
    runs: RUNS,
    intervalS: INTERVAL_MS / 1000,
    pushToServingS: { median: round(median), min: round(sorted[0]), max: round(sorted.at(-1)), all: seconds.map((s) => round(s)) },
    targetMedianS: targetS,
    targetMet: median < targetS,
    idle: {
      seconds: round(elapsedS),
      daemonCpuS: round(selfS, 3),
      daemonPlusGitChildrenCpuS: round(withChildrenS, 3),
      cpuSecondsPerHour: round(perHour(withChildrenS), 1),
      cpuPctOfOneCore: round((withChildrenS / elapsedS) * 100, 3),
      note: 'whole daemon (resync, Docker events, git polls incl. reaped git children); nginx excluded',
    },
  };
  console.log(JSON.stringify(summary, null, 2));
  log(`median push -> serving ${median.toFixed(2)} s (target < ${targetS} s): ${summary.targetMet ? 'met' : 'MISSED'}`);
  log(`idle daemon CPU ≈ ${summary.idle.cpuSecondsPerHour} CPU-s per hour (${summary.idle.cpuPctOfOneCore}% of one core), including git polls`);
  return summary.targetMet ? 0 : 1;
}

async function commitVersion(work, version) {
  await mkdir(join(work, 'apps'), { recursive: true });
  await writeFile(join(work, 'apps', `${APP}.yaml`), manifest(version));
  await git(work, 'add', '--all');
  await git(work, 'commit', '--quiet', '--allow-empty', '--message', `web ${version}`);
}

function manifest(version) {
  return `apiVersion: v1
kind: App
metadata:
  name: ${APP}
spec:
  type: http
  image: autoserve-demo:${version}
  replicas: 1
  ports:
    - containerPort: 8080
  health:
    httpGet: { path: /healthz, port: 8080 }
    intervalSeconds: 1
  termination:
    drainSeconds: 0
    stopTimeoutSeconds: 2
  rollout:
    maxSurge: 1
`;
}

async function waitForVersion(port, version, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await getVersion(port).catch((err) => `error: ${err.message}`);
    if (last === version) return;
    await sleep(POLL_MS);
  }
  throw new Error(`web did not serve ${version} within ${timeoutMs} ms (last answer: ${last})`);
}

function getVersion(port) {
  return new Promise((resolvePromise, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/version', headers: { host: HOST }, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolvePromise(res.statusCode === 200 ? body.trim() : `status ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** utime+stime of the process itself and of its waited-for children, in clock ticks. */
async function cpuTicks(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
  const f = (n) => Number(fields[n - 3]);
  return { self: f(14) + f(15), children: f(16) + f(17) };
}

async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    const exited = new Promise((r) => daemon.once('exit', r));
    daemon.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  }
  if (stateDir) await exec(process.execPath, [CLI, 'stop-lb', '--state', stateDir]).catch((err) => log(`stop-lb: ${err.message}`));
  try {
    const { stdout } = await exec('docker', ['ps', '--all', '--quiet', '--filter', `label=autoserve.bench=${BENCH_ID}`]);
    const ids = stdout.split('\n').filter(Boolean);
    if (ids.length) await exec('docker', ['rm', '--force', '--volumes', ...ids]);
    log(`removed ${ids.length} container(s)`);
  } catch (err) {
    log(`container cleanup failed: ${err.message}`);
  }
  if (root) await rm(root, { recursive: true, force: true });
}

async function git(cwd, ...gitArgs) {
  return (await exec('git', gitArgs, { cwd, env: GIT_ENV })).stdout.trim();
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const [key, inline] = a.slice(2).split('=', 2);
    out[key] = inline ?? argv[++i];
  }
  return out;
}

function parseDurationMs(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's'];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const log = (msg) => console.error(`[bench] ${msg}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (err) => {
    console.error(`[bench] failed: ${err.stack ?? err}`);
    await cleanup();
    process.exit(2);
  });
