// Dashboard benchmark (run `npm run build` first: the daemon runs from dist/, with the built UI).
//
//   npx tsx bench/dashboard.bench.ts [--apps 100] [--replicas 0] [--window 60] [--settle 10] [--loads 5]
//
// 1. Starts `node dist/cli/main.js run` (its own process, its own nginx) on --apps apps with
//    --replicas each, and waits until every app is Running.
// 2. Controller CPU for --window s with no page open, then for --window s with one apps page open
//    in headless Chromium (live stream, sparklines refreshed on every history sample). CPU is
//    utime+stime of the daemon process from /proc/<pid>/stat.
// 3. Apps page render time: navigation start to every app's row drawn with its sparkline, once
//    cold (assets not cached) and --loads times warm; median and worst.
// A short run for checking the script: --apps 10 --window 5 --settle 2 --loads 2.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { launchBrowser, type TestBrowser } from '../test/support/browser.js';
import { cleanupContainers } from '../test/support/docker-test-env.js';
import { freePort } from '../test/support/free-port.js';
import { arg, median, printTable } from './bench-util.js';
import { assertDistFresh } from './dist-fresh.mjs';

assertDistFresh(); // this bench runs the built CLI

const run = promisify(execFile);
const APPS = Number(arg('apps', '100'));
const REPLICAS = Number(arg('replicas', '0'));
const WINDOW_S = Number(arg('window', '60'));
const SETTLE_S = Number(arg('settle', '10'));
const LOADS = Number(arg('loads', '5'));
const CLK_TCK = 100; // getconf CLK_TCK on Linux
const BENCH_LABEL = `autoserve.bench=dashboard-${process.pid}`;

const appName = (i: number) => `app-${String(i).padStart(3, '0')}`;

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

/** The daemon's CPU over `seconds`, as a percentage of one core. */
async function cpuPercent(daemon: ChildProcess, seconds: number): Promise<number> {
  const before = await cpuSeconds(daemon.pid!);
  const started = performance.now();
  await sleep(seconds * 1000);
  return ((await cpuSeconds(daemon.pid!)) - before) / ((performance.now() - started) / 1000) * 100;
}

async function startDaemon(root: string): Promise<{ daemon: ChildProcess; base: string; state: string }> {
  const manifests = join(root, 'manifests');
  const state = join(root, 'state');
  await mkdir(manifests, { recursive: true });
  for (let i = 0; i < APPS; i++) {
    await writeFile(join(manifests, `${appName(i)}.yaml`), [
      'apiVersion: v1', 'kind: App', `metadata: { name: ${appName(i)} }`, 'spec:', '  type: http',
      '  image: autoserve-demo:v1', `  replicas: ${REPLICAS}`, '  ports: [{ containerPort: 8080 }]',
      '  health: { httpGet: { path: /healthz, port: 8080 }, intervalSeconds: 2 }',
      '  termination: { drainSeconds: 0, stopTimeoutSeconds: 2 }', '',
    ].join('\n'));
  }
  const port = await freePort();
  const [labelKey, labelValue] = BENCH_LABEL.split('=');
  const daemon = spawn(process.execPath, [
    'dist/cli/main.js', 'run', '--manifests', manifests, '--state', state, '--port', String(port),
    '--lb-port', String(await freePort()), '--log-level', 'warn', '--instance', `bench-dashboard-${process.pid}`,
    '--container-labels', JSON.stringify({ [labelKey!]: labelValue }),
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000 + APPS * REPLICAS * 2_000;
  for (;;) {
    if (daemon.exitCode !== null) throw new Error(`daemon exited with ${daemon.exitCode}`);
    const apps = await fetch(`${base}/apps`).then((r) => r.json() as Promise<{ apps: { phase: string }[] }>).then((b) => b.apps).catch(() => []);
    if (apps.length === APPS && apps.every((a) => a.phase === 'Running')) break;
    if (Date.now() > deadline) throw new Error(`apps not Running in time (${apps.filter((a) => a.phase === 'Running').length}/${APPS})`);
    await sleep(500);
  }
  return { daemon, base, state };
}

/** ms from navigation start until every app has its row and its sparkline's latest value. */
async function renderMs(browser: TestBrowser, base: string): Promise<number> {
  const page = await browser.newPage();
  try {
    await page.goto(`${base}/ui/`, { waitUntil: 'commit' });
    const handle = await page.waitForFunction(
      (n) => {
        const values = [...document.querySelectorAll('tr[data-app] .spark-value')].map((e) => e.textContent);
        return values.length >= n && values.every((v) => v !== '' && v !== '-') ? performance.now() : false;
      },
      APPS,
      { polling: 'raf', timeout: 30_000 },
    );
    return (await handle.jsonValue()) as number;
  } finally {
    await page.close();
  }
}

const root = await mkdtemp(join(tmpdir(), 'autoserve-bench-dashboard-'));
let started: Awaited<ReturnType<typeof startDaemon>> | undefined;
let browser: TestBrowser | undefined;
try {
  started = await startDaemon(root);
  await sleep(SETTLE_S * 1000); // first passes, log backfill, GC
  const idle = await cpuPercent(started.daemon, WINDOW_S);

  browser = await launchBrowser();
  const cold = await renderMs(browser, started.base);
  const warm: number[] = [];
  for (let i = 0; i < LOADS; i++) warm.push(await renderMs(browser, started.base));

  const page = await browser.newPage();
  await page.goto(`${started.base}/ui/`);
  await page.locator('tr[data-app]').nth(APPS - 1).waitFor();
  await sleep(SETTLE_S * 1000);
  const open = await cpuPercent(started.daemon, WINDOW_S);
  const errors = browser.errors.splice(0);

  console.log(`\n${APPS} apps x ${REPLICAS} replicas, windows of ${WINDOW_S} s\n`);
  printTable(['measure', 'result', 'target', 'met'], [
    ['apps page render, cold (navigation to all rows with sparklines)', `${cold.toFixed(0)} ms`, '< 1000 ms', cold < 1000 ? 'yes' : 'NO'],
    [`apps page render, warm (median / worst of ${LOADS})`, `${median(warm).toFixed(0)} / ${Math.max(...warm).toFixed(0)} ms`, '< 1000 ms', Math.max(...warm) < 1000 ? 'yes' : 'NO'],
    ['controller CPU, no page open', `${idle.toFixed(2)} % of a core`, '', ''],
    ['controller CPU, one apps page open', `${open.toFixed(2)} % of a core`, '', ''],
    ['cost of the open page', `${(open - idle).toFixed(2)} % of a core`, '~1 %', open - idle <= 1 ? 'yes' : 'NO'],
    ['browser console errors', String(errors.length), '0', errors.length === 0 ? 'yes' : 'NO'],
  ]);
  if (errors.length > 0) console.log(errors.join('\n'));
} finally {
  await browser?.close();
  if (started) {
    started.daemon.kill('SIGTERM');
    await new Promise((r) => started!.daemon.once('exit', r));
    await run(process.execPath, ['dist/cli/main.js', 'stop-lb', '--state', started.state]).catch(() => undefined);
  }
  await cleanupContainers(BENCH_LABEL).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}
