// The cost of changing the load balancer's membership, side by side in one run:
//
//   npx tsx bench/nginx.bench.ts [--changes 100] [--rate 200] [--sizes 1,100,500] [--only product]
//
// (Throughput, p99 and CPU of the data path itself: bench/datapath.bench.ts.)
// 1. apply() of a one-app membership change with N apps (nginx -t, atomic swap, graceful reload,
//    confirmation that the new config is served), and `nginx -t` alone; beside it the Lua POST.
// 2./3. Failed requests during N membership changes under load ([a,b,c] <-> [a,b]): the test load
//    generator at a fixed rate and wrk at full speed, through reloads and through Lua POSTs (paced
//    over the same window as the reloads so both are exposed to the same traffic).
// 4. The product path: N membership changes via NginxProcess.apply() in its default mode (Lua
//    membership when the module works), paced every --product-interval ms under the load generator.
//    `--only product` runs this section alone. Sections 1-3 pin our nginx to reload mode
//    (membership: 'reload'), which is what they measure.
//
// The replicas are the keep-alive node test server, reached at their addresses on a bench network
// as the product reaches replicas. Every container and network carries autoserve.bench=nginx and
// every nginx lives under $TMPDIR/autoserve-nginx-bench/; all are removed at start (leftovers of a
// crashed run) and at the end.
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { execa } from 'execa';
import pino from 'pino';
import { MEMBERSHIP_PATH } from '../src/controllers/routes/membership-endpoint.js';
import { NginxProcess } from '../src/controllers/routes/nginx-process.js';
import { acceptingWorkerPids } from '../src/controllers/routes/nginx-workers.js';
import type { Address } from '../src/core/replica.js';
import { membershipBody, type Membership } from '../src/render/membership.js';
import { LUA_BALANCER_FILE, luaBalancerSource, renderAppsConf, renderMainConf } from '../src/render/render-nginx-config.js';
import { freePort } from '../test/support/free-port.js';
import { LoadGenerator, type LoadResult } from '../test/support/load-generator.js';
import {
  benchRoute,
  cleanupNginxUnder,
  isMasterOf,
  quitMaster,
  removeBenchDocker,
  socketErrorText,
  startBenchReplicas,
  startWrk,
  table,
  type BenchReplica,
  type WrkResult,
} from './bench-nginx.js';
import { arg, f0, f1, f2, max, median, printTable } from './bench-util.js';

const docker = new Docker();
const BENCH = 'nginx';
const BENCH_ROOT = join(tmpdir(), 'autoserve-nginx-bench');
const HOST = 'bench.localhost';
const logger = pino({ level: 'warn' });

const CHANGES = Number(arg('changes', '100'));
const RATE = Number(arg('rate', '200'));
const SIZES = arg('sizes', '1,100,500').split(',').map(Number);
const ONLY_PRODUCT = arg('only', '') === 'product';
const PRODUCT_INTERVAL_MS = Number(arg('product-interval', '300'));
/** Upper bound of any phase with load (the N changes and their load). */
const PHASE_LIMIT_MS = 150_000;

async function cleanupAll(): Promise<void> {
  await cleanupNginxUnder(BENCH_ROOT).catch((err: unknown) => console.error('nginx cleanup failed:', err));
  await removeBenchDocker(docker, BENCH).catch((err: unknown) => console.error('container cleanup failed:', err));
}

function upstreams(...replicas: BenchReplica[]): Address[] {
  return replicas.map((r) => r.network);
}

/** wrk (keep-alive, -t2 -c32) against our nginx until stop(), bounded by `maxSeconds`. */
function wrkUntilStopped(port: number, maxSeconds: number): { stop: () => void; result: Promise<WrkResult> } {
  return startWrk({ host: '127.0.0.1', port }, HOST, maxSeconds);
}

// ---------------------------------------------------------------------------------------------
// A hand-written master of the product's Lua config, to time the membership POST alone.
class StaticNginx {
  constructor(
    readonly prefix: string,
    readonly port: number,
  ) {}

  get confPath(): string {
    return join(this.prefix, 'conf', 'nginx.conf');
  }

  async start(conf: string): Promise<void> {
    for (const dir of ['conf', 'logs', 'temp']) await mkdir(join(this.prefix, dir), { recursive: true });
    await chmod(this.prefix, 0o755);
    await chmod(join(this.prefix, 'temp'), 0o755);
    await writeFile(this.confPath, conf);
    const args = ['-p', `${this.prefix}/`, '-c', this.confPath, '-e', 'stderr'];
    const test = await execa('nginx', ['-t', ...args], { reject: false, timeout: 15_000 });
    if (test.exitCode !== 0) throw new Error(`nginx -t failed for ${this.confPath}: ${test.stderr}`);
    const started = await execa('nginx', args, { reject: false, timeout: 15_000, stdin: 'ignore', stdout: 'ignore' });
    if (started.exitCode !== 0) throw new Error(`nginx failed to start: ${started.stderr}`);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const pid = Number.parseInt((await readFile(join(this.prefix, 'nginx.pid'), 'utf8').catch(() => '')).trim(), 10);
      if (pid > 0 && (await isMasterOf(pid, this.prefix))) return;
      await sleep(20);
    }
    throw new Error(`nginx in ${this.prefix} did not come up`);
  }

  stop(): Promise<void> {
    return quitMaster(this.prefix);
  }
}

/**
 * The product's Lua membership config (rendered templates, src/render/lua) for the bench route, as
 * a static master; memberships are POSTed straight to its control socket (`postMembership`), so the
 * figure is the endpoint's own cost, without NginxProcess's seed file and confirming GET.
 */
async function startLuaNginx(prefix: string, port: number, servers: Address[]): Promise<LuaNginx> {
  const logsDir = join(prefix, 'logs');
  const appsConfPath = join(prefix, 'conf', 'apps.conf');
  const controlSocket = join(prefix, 'control', 'control.sock');
  // The peers are not rendered in Lua mode, but a route with none answers 503 without an upstream.
  const apps = renderAppsConf(table([benchRoute(servers, 'bench', HOST)]), { listen: { host: '127.0.0.1', port }, logsDir, luaBalancer: true, control: { socketPath: controlSocket } }).text;
  const main = renderMainConf({
    prefixDir: prefix,
    logsDir,
    pidFile: join(prefix, 'nginx.pid'),
    appsConfPath,
    luaModulesDir: '/usr/lib/nginx/modules',
    ...(process.getuid?.() === 0 ? { workerUser: { user: 'nobody', group: 'nogroup' } } : {}),
  });
  for (const dir of ['conf', 'lua', 'control']) await mkdir(join(prefix, dir), { recursive: true, mode: 0o700 });
  await writeFile(appsConfPath, apps);
  await writeFile(join(prefix, 'lua', LUA_BALANCER_FILE), luaBalancerSource());
  const nginx = new StaticNginx(prefix, port);
  await nginx.start(main);
  return Object.assign(nginx, { controlSocket, membership: {} as Membership });
}

type LuaNginx = StaticNginx & { controlSocket: string; membership: Membership };

/** Sets an app's peers in the Lua nginx (one POST of the whole membership); resolves with the round trip in ms. */
function postMembership(lua: LuaNginx, app: string, peers: Address[]): Promise<number> {
  lua.membership[app] = peers.map((p) => `${p.host}:${p.port}`);
  const body = membershipBody(lua.membership);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: lua.controlSocket, method: 'POST', path: MEMBERSHIP_PATH, agent: false, timeout: 5000, headers: { 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`membership POST: HTTP ${res.statusCode}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('membership POST timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
// ---------------------------------------------------------------------------------------------
// Formatting.

function failuresByKind(result: LoadResult): string {
  if (result.failed === 0) return '0';
  const kinds: Record<string, number> = {};
  for (const f of result.failures) {
    const key = f.kind === 'status' ? `status ${f.status}` : f.kind;
    kinds[key] = (kinds[key] ?? 0) + 1;
  }
  return `${result.failed} (${Object.entries(kinds).map(([k, n]) => `${k}: ${n}`).join(', ')})`;
}
// ---------------------------------------------------------------------------------------------
// Main.

async function main(): Promise<void> {
  const command = `npx tsx bench/nginx.bench.ts ${process.argv.slice(2).join(' ')}`.trim();
  const stale = await removeBenchDocker(docker, BENCH);
  await cleanupNginxUnder(BENCH_ROOT);
  if (stale) process.stderr.write(`removed ${stale} leftover bench container(s)\n`);
  await mkdir(BENCH_ROOT, { recursive: true });
  const runDir = await mkdtemp(join(BENCH_ROOT, 'run-'));
  const started = performance.now();
  const stoppers: (() => Promise<void>)[] = [];

  try {
    // Replicas.
    const [a, b, c] = (await startBenchReplicas(docker, BENCH, `nginxbench${process.pid}`, 3)) as [BenchReplica, BenchReplica, BenchReplica];
    process.stderr.write(`replicas: ${[a, b, c].map((r) => `${r.network.host}:${r.network.port}`).join(', ')}\n`);

    // Section 4 alone: the product path.
    if (ONLY_PRODUCT) {
      const row = await productPathChanges(runDir, [a, b, c], stoppers);
      printProductTable(row);
      console.log(`\nCommand: \`${command}\` (${f0((performance.now() - started) / 1000)} s).`);
      return;
    }

    // Our nginx (rendered templates), pinned to reload mode: sections 1-3 measure reloads.
    const oursPort = await freePort();
    const ours = new NginxProcess({ prefixDir: join(runDir, 'ours'), listen: { host: '127.0.0.1', port: oursPort }, logger, membership: 'reload' });
    stoppers.push(() => ours.stop());
    const three = table([benchRoute(upstreams(a, b, c), 'bench', HOST)]);
    const two = table([benchRoute(upstreams(a, b), 'bench', HOST)]);
    await ours.apply(three);

    // The Lua balancer.
    const lua = await startLuaNginx(join(runDir, 'lua'), await freePort(), upstreams(a, b, c));
    stoppers.push(() => lua.stop());
    await postMembership(lua, 'bench', upstreams(a, b, c));

    // ---- 1. Reload time with N apps --------------------------------------------------------
    const reloadRows: string[][] = [];
    const sizing = new NginxProcess({ prefixDir: join(runDir, 'sizing'), listen: { host: '127.0.0.1', port: await freePort() }, logger, membership: 'reload' });
    stoppers.push(() => sizing.stop());
    const replicas = [a, b, c];
    for (const n of SIZES) {
      const routes = (variant: number) =>
        Array.from({ length: n }, (_, i) =>
          benchRoute(upstreams(replicas[(i === 0 ? variant : i) % 3]!), `app-${i}`, `app-${i}.localhost`),
        );
      await sizing.apply(table(routes(0)));
      const applyMs: number[] = [];
      for (let i = 1; i <= 5; i++) {
        const t0 = performance.now();
        const result = await sizing.apply(table(routes(i % 2)));
        applyMs.push(performance.now() - t0);
        if (!result.reloaded) throw new Error(`apply ${i} with ${n} apps did not reload`);
      }
      const testMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const test = await sizing.test(sizing.mainConfPath);
        testMs.push(performance.now() - t0);
        if (!test.ok) throw new Error(`nginx -t failed with ${n} apps: ${test.message}`);
      }
      // The same change through the Lua nginx, with N apps' memberships stored.
      for (let i = 1; i < n; i++) await postMembership(lua, `app-${i}`, upstreams(replicas[i % 3]!));
      const postMs: number[] = [];
      for (let i = 1; i <= 5; i++) postMs.push(await postMembership(lua, 'app-0', upstreams(replicas[i % 2]!)));
      reloadRows.push([String(n), f0(median(applyMs)), f0(max(applyMs)), f0(median(testMs)), f2(median(postMs))]);
      process.stderr.write(`apps=${n}: apply ${applyMs.map(f0).join(', ')} ms; nginx -t ${testMs.map(f0).join(', ')} ms; POST ${postMs.map(f2).join(', ')} ms\n`);
    }
    await sizing.stop();

    // ---- 2./3. Failures during membership changes under load ---------------------------------
    const memberships = [upstreams(a, b, c), upstreams(a, b)];
    const reloadChanges = async (): Promise<{ windowMs: number; latencies: number[] }> => {
      const latencies: number[] = [];
      const t0 = performance.now();
      for (let i = 1; i <= CHANGES && performance.now() - t0 < PHASE_LIMIT_MS; i++) {
        const s = performance.now();
        const result = await ours.apply(i % 2 ? two : three);
        if (!result.reloaded) throw new Error(`change ${i} did not reload`);
        latencies.push(performance.now() - s);
      }
      return { windowMs: performance.now() - t0, latencies };
    };
    // Paced over `windowMs` so Lua changes meet as much traffic as the reloads did.
    const luaChanges = async (windowMs: number): Promise<{ windowMs: number; latencies: number[] }> => {
      const latencies: number[] = [];
      const t0 = performance.now();
      for (let i = 1; i <= CHANGES && performance.now() - t0 < PHASE_LIMIT_MS; i++) {
        latencies.push(await postMembership(lua, 'bench', memberships[i % 2]!));
        const due = (i * windowMs) / CHANGES - (performance.now() - t0);
        if (due > 0) await sleep(due);
      }
      return { windowMs: performance.now() - t0, latencies };
    };
    const withLoadGenerator = async (port: number, changes: () => Promise<{ windowMs: number; latencies: number[] }>) => {
      const load = new LoadGenerator({ port, hostHeader: HOST, ratePerSec: RATE, durationMs: PHASE_LIMIT_MS + 10_000 });
      const running = load.run();
      try {
        await sleep(1000);
        const done = await changes();
        await sleep(1000);
        return { ...done, load: (load.stop(), await running) };
      } finally {
        load.stop();
      }
    };
    const withWrk = async (port: number, changes: () => Promise<{ windowMs: number; latencies: number[] }>) => {
      const w = wrkUntilStopped(port, Math.ceil((PHASE_LIMIT_MS + 10_000) / 1000));
      try {
        await sleep(1000);
        const done = await changes();
        await sleep(1000);
        w.stop();
        return { ...done, wrk: await w.result };
      } finally {
        w.stop();
      }
    };

    await ours.apply(three);
    await postMembership(lua, 'bench', upstreams(a, b, c));
    const reloadLoad = await withLoadGenerator(oursPort, reloadChanges);
    process.stderr.write(`reload + load generator: ${JSON.stringify({ ...reloadLoad.load, failures: reloadLoad.load.failures.slice(0, 5) })}\n`);
    const luaLoad = await withLoadGenerator(lua.port, () => luaChanges(reloadLoad.windowMs));
    process.stderr.write(`Lua + load generator: ${JSON.stringify({ ...luaLoad.load, failures: luaLoad.load.failures.slice(0, 5) })}\n`);
    await ours.apply(three);
    const reloadWrk = await withWrk(oursPort, reloadChanges);
    const luaWrk = await withWrk(lua.port, () => luaChanges(reloadWrk.windowMs));
    process.stderr.write(`reload + wrk:\n${reloadWrk.wrk.raw}\nLua + wrk:\n${luaWrk.wrk.raw}\n`);
    const productRow = await productPathChanges(runDir, [a, b, c], stoppers);

    // ---- Output ------------------------------------------------------------------------------
    console.log(`\n### Membership change of one app with N apps (idle), 5 changes each\n`);
    printTable(
      ['apps', 'our nginx: apply() median ms (nginx -t + swap + reload + confirmed)', 'apply() max ms', '`nginx -t` alone median ms', 'Lua: POST /_autoserve/membership median ms'],
      reloadRows,
    );

    const loadRow = (name: string, r: typeof reloadLoad) => [
      name,
      String(r.latencies.length),
      f1(r.windowMs / 1000),
      String(r.load.sent),
      failuresByKind(r.load),
      String(r.load.keepAliveRetries),
      `${f1(median(r.latencies))} / ${f1(max(r.latencies))}`,
      `${f1(r.load.latenciesMs.p99)} / ${f1(r.load.latenciesMs.max)}`,
    ];
    console.log(`\n### Failed requests during membership changes ([a,b,c] <-> [a,b]) under the test load generator (${RATE} req/s, keep-alive)\n`);
    printTable(
      ['membership change by', 'changes', 'window s', 'sent', 'failed (by kind)', 'keepAliveRetries (raw keep-alive resets, retried)', 'change latency median / max ms', 'request p99 / max ms'],
      [loadRow('reload (apply())', reloadLoad), loadRow('Lua POST (paced over the same window)', luaLoad)],
    );

    const wrkRow = (name: string, r: typeof reloadWrk) => [
      name,
      String(r.latencies.length),
      f1(r.windowMs / 1000),
      String(r.wrk.requests),
      f0(r.wrk.rps),
      socketErrorText(r.wrk),
      String(r.wrk.non2xx),
      `${f1(median(r.latencies))} / ${f1(max(r.latencies))}`,
    ];
    console.log(`\n### wrk (keep-alive, -t2 -c32, full speed) during membership changes\n`);
    printTable(
      ['membership change by', 'changes', 'window s', 'requests', 'req/s', 'socket errors, raw', 'non-2xx/3xx', 'change latency median / max ms'],
      [wrkRow('reload (apply())', reloadWrk), wrkRow('Lua POST (paced over the same window)', luaWrk)],
    );

    printProductTable(productRow);

    console.log(`\nCommand: \`${command}\` (${f0((performance.now() - started) / 1000)} s). 2-core box shared by wrk, nginx, node, docker-proxy and other engineers' tests: compare within a table, not across runs.`);
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch((err: unknown) => console.error('nginx stop failed:', err));
    await cleanupAll();
  }
}

// ---------------------------------------------------------------------------------------------
// 4. The product path.

interface ProductRow {
  mode: string;
  changes: number;
  windowMs: number;
  load: LoadResult;
  latencies: number[];
  reloads: number;
  workersUnchanged: boolean;
}

/** CHANGES membership changes ([a,b,c] <-> [a,b]) via NginxProcess.apply() in its default mode, under the load generator. */
async function productPathChanges(runDir: string, [a, b, c]: BenchReplica[], stoppers: (() => Promise<void>)[]): Promise<ProductRow> {
  const port = await freePort();
  const nginx = new NginxProcess({ prefixDir: join(runDir, 'product'), listen: { host: '127.0.0.1', port }, logger });
  stoppers.push(() => nginx.stop());
  const three = table([benchRoute(upstreams(a!, b!, c!), 'bench', HOST)]);
  const two = table([benchRoute(upstreams(a!, b!), 'bench', HOST)]);
  await nginx.apply(three);
  const workersBefore = (await acceptingWorkerPids((await nginx.pid())!)).sort().join(',');
  const load = new LoadGenerator({ port, hostHeader: HOST, ratePerSec: RATE, durationMs: PHASE_LIMIT_MS + 10_000 });
  const running = load.run();
  const latencies: number[] = [];
  let reloads = 0;
  let windowMs = 0;
  try {
    await sleep(1000);
    const t0 = performance.now();
    for (let i = 1; i <= CHANGES && performance.now() - t0 < PHASE_LIMIT_MS; i++) {
      const s = performance.now();
      const result = await nginx.apply(i % 2 ? two : three);
      latencies.push(performance.now() - s);
      if (result.reloaded) reloads++;
      if (!result.changed) throw new Error(`product change ${i} changed nothing`);
      const due = i * PRODUCT_INTERVAL_MS - (performance.now() - t0);
      if (due > 0) await sleep(due);
    }
    windowMs = performance.now() - t0;
    await sleep(1000);
  } finally {
    load.stop();
  }
  const result = await running;
  const workersAfter = (await acceptingWorkerPids((await nginx.pid())!)).sort().join(',');
  process.stderr.write(`product path (${nginx.mode}) + load generator: ${JSON.stringify({ ...result, failures: result.failures.slice(0, 5) })}\n`);
  return { mode: nginx.mode ?? '?', changes: latencies.length, windowMs, load: result, latencies, reloads, workersUnchanged: workersBefore === workersAfter };
}

function printProductTable(r: ProductRow): void {
  console.log(`\n### ${CHANGES} membership changes via NginxProcess.apply() (product path), load generator at ${RATE} req/s (keep-alive), one change every ${PRODUCT_INTERVAL_MS} ms\n`);
  printTable(
    ['membership mode', 'changes', 'window s', 'sent', 'failed (by kind)', 'keepAliveRetries', 'change latency (apply()) median / max ms', 'reloads', 'worker pids unchanged', 'request p99 / max ms'],
    [[
      r.mode,
      String(r.changes),
      f1(r.windowMs / 1000),
      String(r.load.sent),
      failuresByKind(r.load),
      String(r.load.keepAliveRetries),
      `${f1(median(r.latencies))} / ${f1(max(r.latencies))}`,
      String(r.reloads),
      r.workersUnchanged ? 'yes' : 'no',
      `${f1(r.load.latenciesMs.p99)} / ${f1(r.load.latenciesMs.max)}`,
    ]],
  );
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write('interrupted: cleaning up\n');
  void cleanupAll().finally(() => process.exit(130));
});

main().catch(async (err: unknown) => {
  console.error(err);
  await cleanupAll();
  process.exit(1);
});
