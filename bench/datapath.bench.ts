// The data path: what a request costs from the client to a replica, side by side in one run.
//
//   npx tsx bench/datapath.bench.ts [--runs 3] [--seconds 8] [--variants 1|0|NAME,...] [--perf 0|one|three]
//
// Targets (wrk -t2 -c32 --latency, keep-alive), alternated run by run so machine noise hits all
// of them, medians reported:
//   - direct to the replica's address on the network (the ceiling: no proxy at all);
//   - direct to its published 127.0.0.1 port (docker-proxy in between);
//   - through AutoServe's nginx (NginxProcess, the product's rendered config and mode) to 1 and to
//     3 replicas at their network addresses;
//   - the path before issue 13: nginx with that version's config (upstream keep-alive 16, one
//     write per access-log line) to the replica's published port.
// Beside each, the CPU of each process group over the run (wrk, nginx, the backend containers,
// docker-proxy) as % of one core, read from /proc and the containers' cgroups.
// --variants 1 (default; or parts of their names) adds copies of the product's nginx with one change each (worker count, access log,
// upstream keep-alive, reload mode instead of Lua) to show what each costs.
// --perf one|three records nginx's workers with `perf` during one more run through nginx to 1 or
// to 3 replicas and prints the top symbols.
//
// Every container and network carries autoserve.bench=datapath and every nginx lives under
// $TMPDIR/autoserve-datapath-bench/; all are removed at start and at the end. Traffic goes to
// 127.0.0.1 and to the bench replicas' addresses only.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { execa } from 'execa';
import pino from 'pino';
import type { NginxProcess } from '../src/controllers/routes/nginx-process.js';
import type { Address } from '../src/core/replica.js';
import { DockerRuntime } from '../src/runtime/docker/docker-runtime.js';
import { freePort } from '../test/support/free-port.js';
import {
  benchRoute,
  cleanupNginxUnder,
  editConfig,
  removeBenchDocker,
  socketErrors,
  startBenchReplicas,
  startProductNginx,
  startWrk,
  table,
  type BenchReplica,
  type ConfigEdit,
  type WrkResult,
} from './bench-nginx.js';
import { arg, f0, f2, median, printTable } from './bench-util.js';
import { listProcesses, totalCpuSeconds, type ProcessInfo } from './process-cpu.js';

const docker = new Docker();
const logger = pino({ level: 'warn' });
const BENCH = 'datapath';
const ROOT = join(tmpdir(), 'autoserve-datapath-bench');
const RUNS = Number(arg('runs', '3'));
const SECONDS = Number(arg('seconds', '8'));
/** '1': every variant; '0': none; else comma-separated parts of variant names. */
const VARIANTS = arg('variants', '1');
const wantVariant = (name: string) => VARIANTS === '1' || (VARIANTS !== '0' && VARIANTS.split(',').some((part) => name.includes(part)));
/** '0': no profile; 'one' or 'three': perf of nginx's workers through nginx to 1 or to 3 replicas. */
const PERF = arg('perf', '0');

interface Target {
  name: string;
  address: Address;
  host: string;
  /** The nginx this target goes through (its processes are "nginx" in the CPU split). */
  nginx?: NginxProcess;
  variant?: boolean;
}

interface Sample {
  wrk: WrkResult;
  /** % of one core over the run, per process group. */
  cpu: { wrk: number; nginx: number; backend: number; dockerProxy: number };
  /** CPU µs per request, per process group (steadier than req/s on a busy machine). */
  perRequest: { nginx: number; total: number };
}

/** The nginx processes of one master: the master and its children. */
async function nginxPids(nginx: NginxProcess, processes: ProcessInfo[]): Promise<number[]> {
  const master = await nginx.pid();
  return master ? processes.filter((p) => p.pid === master || p.ppid === master).map((p) => p.pid) : [];
}

/** docker-proxy processes forwarding to any of `ips`. */
function dockerProxyPids(processes: ProcessInfo[], ips: Set<string>): number[] {
  return processes
    .filter((p) => p.cmdline.includes('docker-proxy'))
    .filter((p) => {
      const args = p.cmdline.split(' ');
      return ips.has(args[args.indexOf('-container-ip') + 1] ?? '');
    })
    .map((p) => p.pid);
}

/** One wrk run against `target` with the CPU of each process group over it. */
async function measure(target: Target, replicas: BenchReplica[], usage: DockerRuntime): Promise<Sample> {
  const processes = await listProcesses();
  const nginx = target.nginx ? await nginxPids(target.nginx, processes) : [];
  const proxies = dockerProxyPids(processes, new Set(replicas.map((r) => r.network.host)));
  const backends = replicas.map((r) => ({ id: r.id }));
  await usage.usage(backends); // the baseline the next reading is a delta from
  const before = { nginx: await totalCpuSeconds(nginx), proxies: await totalCpuSeconds(proxies) };
  const started = performance.now();
  const run = startWrk(target.address, target.host, SECONDS);
  const wrkBefore = await totalCpuSeconds([run.pid]);
  const wrk = await (async () => {
    // wrk's own CPU is read just before it exits: sample it until the run's end.
    let last = wrkBefore;
    const poll = setInterval(() => void totalCpuSeconds([run.pid]).then((s) => (last = s > 0 ? s : last)), 200);
    try {
      const result = await run.result;
      return { result, cpu: last - wrkBefore };
    } finally {
      clearInterval(poll);
    }
  })();
  const seconds = (performance.now() - started) / 1000;
  const readings = await usage.usage(backends);
  const backend = [...readings.values()].reduce((sum, r) => sum + (r.cpu ?? 0), 0);
  const pct = (cpu: number) => (100 * cpu) / seconds;
  const nginxCpu = (await totalCpuSeconds(nginx)) - before.nginx;
  const proxyCpu = (await totalCpuSeconds(proxies)) - before.proxies;
  const perRequest = (cpu: number) => (1e6 * cpu) / Math.max(1, wrk.result.requests);
  return {
    wrk: wrk.result,
    cpu: { wrk: pct(wrk.cpu), nginx: pct(nginxCpu), backend: 100 * backend, dockerProxy: pct(proxyCpu) },
    perRequest: { nginx: perRequest(nginxCpu), total: perRequest(wrk.cpu + nginxCpu + proxyCpu + backend * seconds) },
  };
}

/**
 * Where nginx's CPU goes, by the system call it is in (kernel stacks unwind; nginx's own frames do
 * not, it is built without frame pointers): inclusive time of each syscall entry point. An access
 * log line is one write(); requests and responses are readv/writev/recvfrom on sockets.
 */
const PROFILE_SYSCALLS = [
  'ksys_write', // write(): access-log lines (unbuffered: one per request)
  'do_writev', // writev(): requests to replicas, responses to clients
  'ksys_read',
  'do_readv',
  '__sys_recvfrom', // reading requests and responses
  'do_epoll_wait',
  '__sys_connect', // new connections to replicas (keep-alive misses)
  '__sys_accept4',
  '__x64_sys_close',
];

/** `perf record` of nginx's workers during one run through `target`: CPU by binary, and time in PROFILE_SYSCALLS. */
async function profileNginx(target: Target, runDir: string): Promise<string> {
  const master = await target.nginx!.pid();
  const workers = (await listProcesses()).filter((p) => p.ppid === master).map((p) => p.pid);
  const data = join(runDir, 'perf.data');
  const run = startWrk(target.address, target.host, SECONDS);
  await sleep(500);
  await execa('perf', ['record', '-e', 'cpu-clock', '-F', '999', '-g', '-o', data, '-p', workers.join(','), '--', 'sleep', String(Math.max(1, SECONDS - 2))], { timeout: (SECONDS + 30) * 1000 });
  await run.result;
  const report = async (args: string[]) => (await execa('perf', ['report', '-i', data, '--stdio', ...args], { timeout: 60_000 })).stdout.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const byDso = (await report(['--no-children', '--sort', 'dso', '-g', 'none'])).slice(0, 8);
  const inclusive = await report(['--children', '--sort', 'sym', '-g', 'none']);
  const syscalls = PROFILE_SYSCALLS.map((fn) => inclusive.find((l) => l.endsWith(` ${fn}`)) ?? `  (no samples)  ${fn}`);
  return ['by binary (self time):', ...byDso, '', 'inclusive time in system calls (children, self):', ...syscalls].join('\n');
}

/** The product's nginx config as it was before issue 13: keep-alive 16 per worker, one write per access-log line. */
const BEFORE_ISSUE_13: ConfigEdit = {
  apps: (s) => s.replace(/keepalive \d+;/g, 'keepalive 16;').replace(/(access_log "[^"]*" autoserve_json) buffer=[^;]*;/g, '$1;'),
};

/** The product's config with one change each: what that change costs or saves. */
const VARIANT_EDITS: Record<string, ConfigEdit> = {
  'worker_processes auto': { main: (s) => s.replace(/worker_processes "\d+";/, 'worker_processes auto;') },
  'app access_log off': { apps: (s) => s.replace(/access_log ("[^"]*access-one\.log") autoserve_json[^;]*;/, 'access_log off;') },
  'app access_log unbuffered': { apps: (s) => s.replace(/(access_log "[^"]*access-one\.log" autoserve_json) buffer=[^;]*;/, '$1;') },
  'no upstream keep-alive': { apps: (s) => s.replace(/\n\s*keepalive \d+;/g, '') },
  'upstream keepalive 16 (before)': { apps: (s) => s.replace(/keepalive \d+;/g, 'keepalive 16;') },
  'upstream keepalive 64': { apps: (s) => s.replace(/keepalive \d+;/g, 'keepalive 64;') },
};

async function main(): Promise<void> {
  const command = `npx tsx bench/datapath.bench.ts ${process.argv.slice(2).join(' ')}`.trim();
  const stale = await removeBenchDocker(docker, BENCH);
  await cleanupNginxUnder(ROOT);
  if (stale) process.stderr.write(`removed ${stale} leftover bench container(s)\n`);
  await mkdir(ROOT, { recursive: true });
  const runDir = await mkdtemp(join(ROOT, 'run-'));
  const started = performance.now();
  const stoppers: (() => Promise<void>)[] = [];
  const usage = new DockerRuntime({ logger, docker });
  try {
    const replicas = await startBenchReplicas(docker, BENCH, `datapathbench${process.pid}`, 3);
    const [a, b, c] = replicas as [BenchReplica, BenchReplica, BenchReplica];
    process.stderr.write(`replicas: ${replicas.map((r) => `${r.network.host}:${r.network.port} (published ${r.published.port})`).join(', ')}\n`);
    const routes = table([
      benchRoute([a.network], 'one'),
      benchRoute([a.network, b.network, c.network], 'three'),
      benchRoute([a.published], 'published'),
    ]);
    const startNginx = async (name: string, membership?: 'reload') => {
      const port = await freePort();
      const nginx = await startProductNginx(join(runDir, name), port, routes, logger, membership);
      stoppers.push(() => nginx.stop());
      return { nginx, address: { host: '127.0.0.1', port } };
    };
    const product = await startNginx('product');
    process.stderr.write(`AutoServe's nginx: ${product.nginx.mode} membership\n`);
    const before = await startNginx('before');
    await editConfig(before.nginx, BEFORE_ISSUE_13);

    const targets: Target[] = [
      { name: 'direct: replica address on the network', address: a.network, host: 'one.localhost' },
      { name: 'direct: published port (docker-proxy)', address: a.published, host: 'one.localhost' },
      { name: 'AutoServe nginx -> 1 replica (network address)', ...product, host: 'one.localhost' },
      { name: 'AutoServe nginx -> 3 replicas (network addresses)', ...product, host: 'three.localhost' },
      { name: 'before issue 13: its nginx config -> 1 replica via its published port', ...before, host: 'published.localhost' },
    ];
    if (VARIANTS !== '0') {
      for (const [name, edit] of Object.entries(VARIANT_EDITS).filter(([n]) => wantVariant(n))) {
        const variant = await startNginx(`variant-${targets.length}`);
        await editConfig(variant.nginx, edit);
        targets.push({ name: `variant: ${name} -> 1 replica`, ...variant, host: 'one.localhost', variant: true });
      }
      if (product.nginx.mode === 'lua' && wantVariant('reload mode')) {
        const reload = await startNginx('variant-reload', 'reload');
        targets.push({ name: 'variant: reload mode (rendered peers, no Lua) -> 1 replica', ...reload, host: 'one.localhost', variant: true });
      }
    }

    const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const target of targets) {
        await sleep(300);
        const sample = await measure(target, replicas, usage);
        samples.get(target.name)!.push(sample);
        const errors = socketErrors(sample.wrk) + sample.wrk.non2xx;
        process.stderr.write(
          `run ${run} ${target.name}: ${f0(sample.wrk.rps)} req/s p99 ${f2(sample.wrk.p99Ms)} ms cpu wrk ${f0(sample.cpu.wrk)}% nginx ${f0(sample.cpu.nginx)}% backend ${f0(sample.cpu.backend)}% docker-proxy ${f0(sample.cpu.dockerProxy)}% nginx ${f0(sample.perRequest.nginx)} µs/req all ${f0(sample.perRequest.total)} µs/req${errors ? ` errors ${errors}` : ''}\n`,
        );
      }
    }
    const profiled = PERF === 'one' ? targets[2] : PERF === 'three' ? targets[3] : undefined;
    const profile = profiled ? await profileNginx(profiled, runDir) : undefined;

    const med = (name: string, pick: (s: Sample) => number) => median(samples.get(name)!.map(pick));
    const direct = med(targets[0]!.name, (s) => s.wrk.rps);
    const directP99 = med(targets[0]!.name, (s) => s.wrk.p99Ms);
    const row = (t: Target) => {
      const rps = med(t.name, (s) => s.wrk.rps);
      const errors = samples.get(t.name)!.reduce((n, s) => n + socketErrors(s.wrk) + s.wrk.non2xx, 0);
      return [
        t.name,
        f0(rps),
        f2(med(t.name, (s) => s.wrk.p99Ms)),
        f2(rps / direct),
        f2(med(t.name, (s) => s.wrk.p99Ms) - directP99),
        ...(['wrk', 'nginx', 'backend', 'dockerProxy'] as const).map((k) => f0(med(t.name, (s) => s.cpu[k]))),
        f0(med(t.name, (s) => s.perRequest.nginx)),
        f0(med(t.name, (s) => s.perRequest.total)),
        String(errors),
      ];
    };
    const header = ['target', 'req/s', 'p99 ms', 'x direct', 'p99 - direct ms', 'CPU wrk %', 'CPU nginx %', 'CPU backend %', 'CPU docker-proxy %', 'nginx CPU µs/req', 'all CPU µs/req', 'errors'];
    console.log(`\n### Data path (wrk -t2 -c32 -d${SECONDS}s --latency), ${RUNS} alternated runs, medians; CPU in % of one core over each run\n`);
    printTable(header, targets.filter((t) => !t.variant).map(row));
    const throughNginx = med(targets[2]!.name, (s) => s.wrk.rps);
    const beforeRps = med(targets[4]!.name, (s) => s.wrk.rps);
    console.log(
      `\nTargets: nginx -> 1 replica >= 0.8x direct: ${f2(throughNginx / direct)}; p99 within +1 ms of direct: ${f2(med(targets[2]!.name, (s) => s.wrk.p99Ms) - directP99)} ms; >= 1.5x before issue 13: ${f2(throughNginx / beforeRps)}x.`,
    );
    if (targets.some((t) => t.variant)) {
      console.log(`\n#### One change to the product's nginx each (same runs, same alternation)\n`);
      printTable(header, [row(targets[2]!), ...targets.filter((t) => t.variant).map(row)]);
    }
    if (profile) console.log(`\n#### perf: nginx workers during one more run of "${profiled!.name}" (cpu-clock, 999 Hz)\n\n\`\`\`\n${profile}\n\`\`\``);
    console.log(`\nCommand: \`${command}\` (${f0((performance.now() - started) / 1000)} s). Replicas: ${replicas.length} x autoserve-node-echo:v1, no CPU limit.`);
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch((err: unknown) => console.error('nginx stop failed:', err));
    usage.close();
    await cleanupNginxUnder(ROOT).catch(() => undefined);
    await removeBenchDocker(docker, BENCH).catch(() => undefined);
    await rm(runDir, { recursive: true, force: true });
  }
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write('interrupted: cleaning up\n');
  void cleanupNginxUnder(ROOT)
    .then(() => removeBenchDocker(docker, BENCH))
    .finally(() => process.exit(130));
});

main().catch(async (err: unknown) => {
  console.error(err);
  await cleanupNginxUnder(ROOT).catch(() => undefined);
  await removeBenchDocker(docker, BENCH).catch(() => undefined);
  process.exit(1);
});
