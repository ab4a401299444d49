// What the nginx and data-path benchmarks share: replicas of the keep-alive test server on a bench
// network (each also published on 127.0.0.1, so one replica serves every path), the product's nginx
// and edited copies of its config, wrk, and cleanup by label and by prefix. Traffic goes only to
// 127.0.0.1 and to the bench replicas' addresses on the bench network.
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { NginxProcess, type NginxProcessOptions } from '../src/controllers/routes/nginx-process.js';
import type { Address } from '../src/core/replica.js';
import type { AppRoute, RouteTable } from '../src/core/routes.js';
import { containerCreateOptions } from '../src/runtime/docker/create-options.js';
import { ensureNetwork, networkOf } from '../src/runtime/docker/networks.js';
import { factsOf } from '../src/runtime/docker/replica-facts.js';

export const BENCH_IMAGE = 'autoserve-node-echo:v1';
const BENCH_LABEL_KEY = 'autoserve.bench';

// ---------------------------------------------------------------------------------------------
// Replicas.

/** One bench replica: its address on the bench network and its published 127.0.0.1 port. */
export interface BenchReplica {
  id: string;
  name: string;
  network: Address;
  published: Address;
}

async function waitHealthy(address: Address, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: address.host, port: address.port, path: '/healthz', agent: false, timeout: 1000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`replica at ${address.host}:${address.port} not healthy within ${timeoutMs} ms`);
}

/**
 * Starts `count` replicas the way the product does (its create options, on the shared network of
 * `instance`), each also publishing 8080 on 127.0.0.1 so the published path can be measured on the
 * same process. Everything carries autoserve.bench=<bench>.
 */
export async function startBenchReplicas(docker: Docker, bench: string, instance: string, count: number): Promise<BenchReplica[]> {
  const labels = { [BENCH_LABEL_KEY]: bench };
  await ensureNetwork(docker, networkOf(instance, 'bench', 'shared'), labels);
  return Promise.all(
    Array.from({ length: count }, async (_, slot) => {
      const options = containerCreateOptions({
        shape: { image: BENCH_IMAGE, env: {}, ports: [8080], publish: [{ containerPort: 8080, hostIp: '127.0.0.1' }], network: 'shared' },
        instance,
        app: 'bench',
        revision: 'r',
        slot,
        labels,
        stopTimeoutSeconds: 2,
      });
      const container = await docker.createContainer(options);
      await container.start();
      const [info] = await docker.listContainers({ filters: { id: [container.id] } });
      const facts = factsOf(info!);
      const network = facts.addresses[8080];
      const published = facts.published[8080];
      if (!network || !published) throw new Error(`${options.name} has no network address or published port`);
      await waitHealthy(network);
      await waitHealthy(published);
      return { id: container.id, name: facts.name, network, published: { host: published.host, port: published.port } };
    }),
  );
}

/** Removes the bench's containers, then its networks; returns how many containers there were. */
export async function removeBenchDocker(docker: Docker, bench: string): Promise<number> {
  const label = `${BENCH_LABEL_KEY}=${bench}`;
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
  return containers.length;
}

// ---------------------------------------------------------------------------------------------
// nginx masters under a bench root: the product's (NginxProcess), edited copies, cleanup.

export async function isMasterOf(pid: number, prefix: string): Promise<boolean> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    return cmdline.includes('nginx: master process') && cmdline.includes(prefix);
  } catch {
    return false;
  }
}

export async function quitMaster(prefix: string): Promise<void> {
  const text = await readFile(join(prefix, 'nginx.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !(await isMasterOf(pid, prefix))) return;
  process.kill(pid, 'SIGQUIT');
  for (let i = 0; i < 200 && (await isMasterOf(pid, prefix)); i++) await sleep(50);
  if (await isMasterOf(pid, prefix)) process.kill(pid, 'SIGTERM');
}

/** Stops every nginx master ever started under `root` (this run or a crashed one), removes the run dirs. */
export async function cleanupNginxUnder(root: string): Promise<void> {
  for (const run of await readdir(root).catch(() => [] as string[])) {
    const runDir = join(root, run);
    for (const prefix of await readdir(runDir).catch(() => [] as string[])) await quitMaster(join(runDir, prefix));
    await rm(runDir, { recursive: true, force: true });
  }
}

export function benchRoute(servers: Address[], app = 'bench', host = `${app}.localhost`): AppRoute {
  return { app, host, pathPrefix: '/', servers };
}

export function table(routes: AppRoute[]): RouteTable {
  return { routes };
}

/** The product's nginx (NginxProcess: rendered templates, its default or the given membership mode) serving `routes`. */
export async function startProductNginx(prefixDir: string, port: number, routes: RouteTable, logger: Logger, membership?: NginxProcessOptions['membership']): Promise<NginxProcess> {
  const nginx = new NginxProcess({ prefixDir, listen: { host: '127.0.0.1', port }, logger, ...(membership ? { membership } : {}) });
  await nginx.apply(routes);
  return nginx;
}

/** A change to the product's rendered config; each must match, or the variant would measure nothing. */
export interface ConfigEdit {
  main?: (text: string) => string;
  apps?: (text: string) => string;
}

/** Edits the product's config files in place, checks them with `nginx -t`, and reloads. */
export async function editConfig(nginx: NginxProcess, edit: ConfigEdit): Promise<void> {
  for (const [path, change] of [[nginx.mainConfPath, edit.main], [nginx.appsConfPath, edit.apps]] as const) {
    if (!change) continue;
    const before = await readFile(path, 'utf8');
    const after = change(before);
    if (after === before) throw new Error(`edit matched nothing in ${path}`);
    await writeFile(path, after);
  }
  const test = await nginx.test(nginx.mainConfPath);
  if (!test.ok) throw new Error(`nginx -t failed after the edit: ${test.message}`);
  await nginx.reload();
  await sleep(300); // old workers finish their keep-alive connections
}

// ---------------------------------------------------------------------------------------------
// wrk.

export interface WrkResult {
  requests: number;
  rps: number;
  p99Ms: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
  raw: string;
}

/** wrk's flags of every bench: 2 threads, 32 keep-alive connections, latency percentiles. */
export function wrkArgs(target: Address, host: string, seconds: number): string[] {
  return ['-t2', '-c32', `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, `http://${target.host}:${target.port}/`];
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export function parseWrk(out: string): WrkResult {
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

/** wrk until stop() (SIGINT: wrk prints its totals) or `maxSeconds`; `pid` is wrk's process. */
export function startWrk(target: Address, host: string, maxSeconds: number): { pid: number; stop: () => void; result: Promise<WrkResult> } {
  const child = spawn('wrk', wrkArgs(target, host, maxSeconds), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), (maxSeconds + 30) * 1000);
  const result = new Promise<WrkResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      if (code !== 0 && code !== null && !/requests in/.test(out)) reject(new Error(`wrk failed: ${out}`));
      else resolve(parseWrk(out));
    });
  });
  return { pid: child.pid!, stop: () => child.kill('SIGINT'), result };
}

/** One wrk run of `seconds`. */
export async function wrk(target: Address, host: string, seconds: number): Promise<WrkResult> {
  const result = await execa('wrk', wrkArgs(target, host, seconds), { timeout: (seconds + 30) * 1000, reject: false });
  if (result.exitCode !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  return parseWrk(result.stdout);
}

export const socketErrors = (r: WrkResult) => r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout;
export const socketErrorText = (r: WrkResult) =>
  `${socketErrors(r)} (connect ${r.errors.connect}, read ${r.errors.read}, write ${r.errors.write}, timeout ${r.errors.timeout})`;
