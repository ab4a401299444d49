// The load balancer's cost and the cost of changing its membership, side by side in one run:
//
//   npx tsx bench/nginx.bench.ts [--runs 3] [--seconds 8] [--changes 100] [--rate 200] [--sizes 1,100,500] [--explore 1]
//
// 1. Throughput and p99 (wrk -t2 -c32 --latency, Host: bench.localhost): straight to one node-echo
//    replica's published port, through our nginx (NginxProcess, rendered templates) to 1 and to 3
//    replicas, and through the reload-free Lua balancer (the product's rendered config and
//    src/render/lua, membership POSTed to its control socket) to 1 and 3. With --explore
//    (default on) also variants that show where the proxy's cost goes: one worker, buffered or no
//    access log, and a replica on the host network (no docker-proxy). Targets are alternated run by
//    run so machine noise hits all of them; medians are reported.
// 2. apply() of a one-app membership change with N apps (nginx -t, atomic swap, graceful reload,
//    confirmation that the new config is served), and `nginx -t` alone; beside it the Lua POST.
// 3./4. Failed requests during N membership changes under load ([a,b,c] <-> [a,b]): the test load
//    generator at a fixed rate and wrk at full speed, through reloads and through Lua POSTs (paced
//    over the same window as the reloads so both are exposed to the same traffic).
// 5. The product path: N membership changes via NginxProcess.apply() in its default mode (Lua
//    membership when the module works), paced every --product-interval ms under the load generator.
//    `--only product` runs this section alone. Sections 1-4 pin our nginx to reload mode
//    (membership: 'reload'), which is what they measure.
//
// Every container carries autoserve.bench=nginx and every nginx lives under
// $TMPDIR/autoserve-nginx-bench/; both are removed at start (leftovers of a crashed run) and at the end.
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { execa } from 'execa';
import pino from 'pino';
import { containerCreateOptions } from '../src/runtime/docker/create-options.js';
import { NginxProcess } from '../src/controllers/routes/nginx-process.js';
import { acceptingWorkerPids } from '../src/controllers/routes/nginx-workers.js';
import type { Address } from '../src/core/replica.js';
import type { AppRoute, RouteTable } from '../src/core/routes.js';
import { MEMBERSHIP_PATH } from '../src/controllers/routes/membership-endpoint.js';
import { membershipBody, type Membership } from '../src/render/membership.js';
import { LUA_BALANCER_FILE, luaBalancerSource, renderAppsConf, renderMainConf } from '../src/render/render-nginx-config.js';
import { freePort } from '../test/support/free-port.js';
import { LoadGenerator, type LoadResult } from '../test/support/load-generator.js';
import { arg, median, printTable } from './bench-util.js';

const docker = new Docker();
const IMAGE = 'autoserve-node-echo:v1';
const LABEL_KEY = 'autoserve.bench';
const LABEL_VALUE = 'nginx';
const BENCH_LABEL = { [LABEL_KEY]: LABEL_VALUE };
const BENCH_ROOT = join(tmpdir(), 'autoserve-nginx-bench');
const HOST = 'bench.localhost';
const logger = pino({ level: 'warn' });

const RUNS = Number(arg('runs', '3'));
const SECONDS = Number(arg('seconds', '8'));
const CHANGES = Number(arg('changes', '100'));
const RATE = Number(arg('rate', '200'));
const SIZES = arg('sizes', '1,100,500').split(',').map(Number);
const EXPLORE = arg('explore', '1') !== '0';
const ONLY_PRODUCT = arg('only', '') === 'product';
const PRODUCT_INTERVAL_MS = Number(arg('product-interval', '300'));
/** Upper bound of any phase with load (the N changes and their load). */
const PHASE_LIMIT_MS = 150_000;

const wrkArgs = (port: number, duration: string) => ['-t2', '-c32', `-d${duration}`, '--latency', '-H', `Host: ${HOST}`, `http://127.0.0.1:${port}/`];

// ---------------------------------------------------------------------------------------------
// Cleanup: containers by label, nginx masters by prefix under BENCH_ROOT.

async function removeBenchContainers(): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_KEY}=${LABEL_VALUE}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  return list.length;
}

async function isMasterOf(pid: number, prefix: string): Promise<boolean> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    return cmdline.includes('nginx: master process') && cmdline.includes(prefix);
  } catch {
    return false;
  }
}

async function quitMaster(prefix: string): Promise<void> {
  const text = await readFile(join(prefix, 'nginx.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !(await isMasterOf(pid, prefix))) return;
  process.kill(pid, 'SIGQUIT');
  for (let i = 0; i < 200 && (await isMasterOf(pid, prefix)); i++) await sleep(50);
  if (await isMasterOf(pid, prefix)) process.kill(pid, 'SIGTERM');
}

/** Stops every nginx master we ever started under BENCH_ROOT (this run or a crashed one), removes the dirs. */
async function cleanupNginx(): Promise<void> {
  const runs = await readdir(BENCH_ROOT).catch(() => [] as string[]);
  for (const run of runs) {
    const runDir = join(BENCH_ROOT, run);
    for (const prefix of await readdir(runDir).catch(() => [] as string[])) await quitMaster(join(runDir, prefix));
    await rm(runDir, { recursive: true, force: true });
  }
}

async function cleanupAll(): Promise<void> {
  await cleanupNginx().catch((err: unknown) => console.error('nginx cleanup failed:', err));
  await removeBenchContainers().catch((err: unknown) => console.error('container cleanup failed:', err));
}

// ---------------------------------------------------------------------------------------------
// Replicas.

interface Replica {
  name: string;
  port: number;
}

async function waitHealthy(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`replica on port ${port} not healthy within ${timeoutMs} ms`);
}

async function startReplica(runId: string, slot: number): Promise<Replica> {
  const options = containerCreateOptions({
    shape: { image: IMAGE, env: {}, ports: [8080] },
    instance: `nginxbench${runId}`,
    app: 'bench',
    revision: 'r',
    slot,
    labels: BENCH_LABEL,
    stopTimeoutSeconds: 2,
  });
  const container = await docker.createContainer(options);
  await container.start();
  const info = await container.inspect();
  const port = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
  if (!port) throw new Error(`no published port for ${options.name}`);
  await waitHealthy(port);
  return { name: String(options.name), port };
}

/** A replica on the host network: same image, reached on 127.0.0.1 without docker-proxy. */
async function startHostNetReplica(runId: string): Promise<Replica> {
  const port = await freePort();
  const name = `autoserve-nginxbench${runId}-hostnet`;
  const container = await docker.createContainer({
    name,
    Image: IMAGE,
    Env: [`PORT=${port}`],
    Labels: BENCH_LABEL,
    HostConfig: { NetworkMode: 'host', Init: true, RestartPolicy: { Name: 'no' } },
  });
  await container.start();
  await waitHealthy(port);
  return { name, port };
}

// ---------------------------------------------------------------------------------------------
// nginx masters: ours (NginxProcess) and hand-written ones (Lua, investigation variants).

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
  const apps = renderAppsConf(table([benchRoute(servers)]), { listen: { host: '127.0.0.1', port }, logsDir, luaBalancer: true, control: { socketPath: controlSocket } }).text;
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

/** Our rendered config (same templates as NginxProcess), edited by `edit`, as a static master. */
async function startVariantNginx(
  prefix: string,
  port: number,
  servers: Address[],
  edit: { main?: (s: string) => string; apps?: (s: string) => string },
): Promise<StaticNginx> {
  const logsDir = join(prefix, 'logs');
  const appsConfPath = join(prefix, 'conf', 'apps.conf');
  const control = { socketPath: join(prefix, 'control', 'control.sock') };
  const apps = renderAppsConf(table([benchRoute(servers)]), { listen: { host: '127.0.0.1', port }, logsDir, control }).text;
  const main = renderMainConf({
    prefixDir: prefix,
    logsDir,
    pidFile: join(prefix, 'nginx.pid'),
    appsConfPath,
    ...(process.getuid?.() === 0 ? { workerUser: { user: 'nobody', group: 'nogroup' } } : {}),
  });
  const editedApps = edit.apps ? edit.apps(apps) : apps;
  const editedMain = edit.main ? edit.main(main) : main;
  if (editedApps === apps && editedMain === main && (edit.apps || edit.main)) throw new Error(`variant edit matched nothing in ${prefix}`);
  for (const dir of ['conf', 'control']) await mkdir(join(prefix, dir), { recursive: true, mode: 0o700 });
  await writeFile(appsConfPath, editedApps);
  const nginx = new StaticNginx(prefix, port);
  await nginx.start(editedMain);
  return nginx;
}

function benchRoute(servers: Address[], app = 'bench', host = HOST): AppRoute {
  return { app, host, pathPrefix: '/', servers };
}

function table(routes: AppRoute[]): RouteTable {
  return { routes };
}

function upstreams(...replicas: Replica[]): Address[] {
  return replicas.map((r) => ({ host: '127.0.0.1', port: r.port }));
}

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
// wrk.

interface WrkResult {
  requests: number;
  rps: number;
  p99Ms: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
  raw: string;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

function parseWrk(out: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p99Ms: toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    errors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    raw: out,
  };
}

async function wrk(port: number): Promise<WrkResult> {
  const result = await execa('wrk', wrkArgs(port, `${SECONDS}s`), { timeout: (SECONDS + 30) * 1000, reject: false });
  if (result.exitCode !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  return parseWrk(result.stdout);
}

/** wrk running until stop() (SIGINT: wrk prints its totals) or `maxSeconds`. */
function wrkUntilStopped(port: number, maxSeconds: number): { stop: () => void; result: Promise<WrkResult> } {
  const child = spawn('wrk', wrkArgs(port, `${maxSeconds}s`), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), (maxSeconds + 30) * 1000);
  const result = new Promise<WrkResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(guard);
      resolve(parseWrk(out));
    });
  });
  return { stop: () => child.kill('SIGINT'), result };
}

// ---------------------------------------------------------------------------------------------
// Formatting.

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : 'n/a');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);

function failuresByKind(result: LoadResult): string {
  if (result.failed === 0) return '0';
  const kinds: Record<string, number> = {};
  for (const f of result.failures) {
    const key = f.kind === 'status' ? `status ${f.status}` : f.kind;
    kinds[key] = (kinds[key] ?? 0) + 1;
  }
  return `${result.failed} (${Object.entries(kinds).map(([k, n]) => `${k}: ${n}`).join(', ')})`;
}

const socketErrors = (r: WrkResult) => r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout;
const socketErrorText = (r: WrkResult) =>
  `${socketErrors(r)} (connect ${r.errors.connect}, read ${r.errors.read}, write ${r.errors.write}, timeout ${r.errors.timeout})`;

// ---------------------------------------------------------------------------------------------
// Main.

async function main(): Promise<void> {
  const command = `npx tsx bench/nginx.bench.ts ${process.argv.slice(2).join(' ')}`.trim();
  const stale = await removeBenchContainers();
  await cleanupNginx();
  if (stale) process.stderr.write(`removed ${stale} leftover bench container(s)\n`);
  await mkdir(BENCH_ROOT, { recursive: true });
  const runDir = await mkdtemp(join(BENCH_ROOT, 'run-'));
  const runId = String(process.pid);
  const started = performance.now();
  const stoppers: (() => Promise<void>)[] = [];

  try {
    // Replicas.
    const [a, b, c] = await Promise.all([0, 1, 2].map((slot) => startReplica(runId, slot))) as [Replica, Replica, Replica];
    const hostNet = EXPLORE ? await startHostNetReplica(runId) : undefined;
    process.stderr.write(`replicas: ${[a, b, c].map((r) => r.port).join(', ')}${hostNet ? `; host network ${hostNet.port}` : ''}\n`);

    // Section 5 alone: the product path.
    if (ONLY_PRODUCT) {
      const row = await productPathChanges(runDir, [a, b, c], stoppers);
      printProductTable(row);
      console.log(`\nCommand: \`${command}\` (${f0((performance.now() - started) / 1000)} s).`);
      return;
    }

    // Our nginx (rendered templates), pinned to reload mode: sections 1-4 measure reloads.
    const oursPort = await freePort();
    const ours = new NginxProcess({ prefixDir: join(runDir, 'ours'), listen: { host: '127.0.0.1', port: oursPort }, logger, membership: 'reload' });
    stoppers.push(() => ours.stop());
    const one = table([benchRoute(upstreams(a))]);
    const three = table([benchRoute(upstreams(a, b, c))]);
    const two = table([benchRoute(upstreams(a, b))]);
    await ours.apply(three);

    // The Lua balancer.
    const lua = await startLuaNginx(join(runDir, 'lua'), await freePort(), upstreams(a, b, c));
    stoppers.push(() => lua.stop());
    await postMembership(lua, 'bench', upstreams(a, b, c));

    // ---- 1. Throughput -------------------------------------------------------------------
    interface Target {
      name: string;
      port: number;
      before?: () => Promise<unknown>;
      explore?: boolean;
    }
    const targets: Target[] = [
      { name: 'direct: replica published port (docker-proxy)', port: a.port },
      { name: 'our nginx -> 1 replica', port: oursPort, before: () => ours.apply(one) },
      { name: 'our nginx -> 3 replicas', port: oursPort, before: () => ours.apply(three) },
      { name: 'Lua balancer -> 1 replica', port: lua.port, before: () => postMembership(lua, 'bench', upstreams(a)) },
      { name: 'Lua balancer -> 3 replicas', port: lua.port, before: () => postMembership(lua, 'bench', upstreams(a, b, c)) },
    ];
    if (EXPLORE && hostNet) {
      const variant = async (name: string, servers: Address[], edit: Parameters<typeof startVariantNginx>[3]) => {
        const nginx = await startVariantNginx(join(runDir, name), await freePort(), servers, edit);
        stoppers.push(() => nginx.stop());
        return nginx.port;
      };
      const appLog = /(access_log "[^"]*access-bench\.log" autoserve_json);/;
      targets.push(
        { name: 'direct: replica on host network (no docker-proxy)', port: hostNet.port, explore: true },
        { name: 'nginx variant: worker_processes 1', port: await variant('w1', upstreams(a), { main: (s) => s.replace('worker_processes "auto";', 'worker_processes 1;') }), explore: true },
        { name: 'nginx variant: access_log buffer=64k flush=1s', port: await variant('buflog', upstreams(a), { apps: (s) => s.replace(appLog, '$1 buffer=64k flush=1s;') }), explore: true },
        { name: 'nginx variant: app access_log off', port: await variant('nolog', upstreams(a), { apps: (s) => s.replace(appLog, 'access_log off;') }), explore: true },
        { name: 'nginx variant: no upstream keepalive', port: await variant('noka', upstreams(a), { apps: (s) => s.replace(/\n\s*keepalive \d+;/, '') }), explore: true },
        { name: 'nginx (as rendered) -> host-network replica', port: await variant('hostnet', upstreams(hostNet), {}), explore: true },
      );
    }
    const samples = new Map<string, WrkResult[]>(targets.map((t) => [t.name, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const target of targets) {
        await target.before?.();
        await sleep(300);
        const result = await wrk(target.port);
        samples.get(target.name)!.push(result);
        const errs = socketErrors(result) + result.non2xx;
        process.stderr.write(`run ${run} ${target.name}: ${f0(result.rps)} req/s p99 ${f2(result.p99Ms)} ms${errs ? ` errors ${errs}` : ''}\n`);
      }
    }
    const rpsOf = (name: string) => median(samples.get(name)!.map((r) => r.rps));
    const direct = rpsOf(targets[0]!.name);
    const throughputRow = (t: Target) => {
      const rs = samples.get(t.name)!;
      const errors = rs.reduce((n, r) => n + socketErrors(r) + r.non2xx, 0);
      return [t.name, f0(median(rs.map((r) => r.rps))), f2(median(rs.map((r) => r.p99Ms))), f2(median(rs.map((r) => r.rps)) / direct), String(errors)];
    };
    const throughputHeader = ['target', 'req/s (median)', 'p99 ms (median)', 'ratio to direct (published)', 'socket errors + non-2xx (sum)'];

    // ---- 2. Reload time with N apps --------------------------------------------------------
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

    // ---- 3./4. Failures during membership changes under load ---------------------------------
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
    console.log(`\n### Throughput and p99 (wrk -t2 -c32 -d${SECONDS}s --latency -H 'Host: ${HOST}'), ${RUNS} alternated runs, medians\n`);
    printTable(throughputHeader, targets.filter((t) => !t.explore).map(throughputRow));
    if (EXPLORE) {
      console.log(`\n#### Where the proxy's cost goes (same runs, same alternation; each variant -> 1 replica)\n`);
      printTable(throughputHeader, [throughputRow(targets[0]!), throughputRow(targets[1]!), ...targets.filter((t) => t.explore).map(throughputRow)]);
    }

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
// 5. The product path.

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
async function productPathChanges(runDir: string, [a, b, c]: Replica[], stoppers: (() => Promise<void>)[]): Promise<ProductRow> {
  const port = await freePort();
  const nginx = new NginxProcess({ prefixDir: join(runDir, 'product'), listen: { host: '127.0.0.1', port }, logger });
  stoppers.push(() => nginx.stop());
  const three = table([benchRoute(upstreams(a!, b!, c!))]);
  const two = table([benchRoute(upstreams(a!, b!))]);
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
