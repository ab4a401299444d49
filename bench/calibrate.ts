// The simulator checked against the real system (issue 12, item 6). Replays two compressed traces
// (a step and a periodic one) against a real autoscaled app through AutoServe's nginx on this
// machine, records every second's replica count, request rate and p95, then runs `autoserve
// simulate`'s model on the same trace and policy, and reports how far apart they are.
//
//   npx tsx bench/calibrate.ts [--scale 1] [--startup-seconds measured|N] [--out DIR]
//
// --scale 0.25 shortens every phase to a quarter (a quick check that the script works); the
// recorded figures come from --scale 1 (about 9 minutes) on a quiet machine. The app is queue-app
// (4 workers per replica, the service time chosen per request) with the simulator's assumptions:
// Poisson arrivals within each second, a fixed service time. Targets: replica count within +-1 most
// of the time; seconds over the objective within 25 %.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CONCURRENCY_PER_REPLICA, runSimulation, createAutoServeScaler, renderHtmlReport, type SimulationResult, type TracePoint } from '../src/sim/index.js';
import { parseManifestFile } from '../src/manifest/parse-file.js';
import { startTestDaemon, type TestDaemon } from '../test/e2e/harness.js';
import { appManifest } from '../test/support/app-manifest.js';
import { eventually } from '../test/support/eventually.js';
import { httpGet } from '../test/support/http-get.js';
import { traceArrivals } from '../test/support/arrivals.js';
import { LoadGenerator } from '../test/support/load-generator.js';
import { arg, median } from './bench-util.js';

const SERVICE_MS = 100; // 4 workers: 40 rps per replica at most
const TARGET = 20; // rps per replica
const SLO_MS = 300;

const scale = Number(arg('scale', '1'));
const startupArg = arg('startup-seconds', 'measured');
const outDir = arg('out', '');

function manifest(name: string, replicas = 1): string {
  const scaling = ['  scaling:', '    minReplicas: 1', '    maxReplicas: 8', '    policy:', '      http:', `        targetRPSPerReplica: ${TARGET}`, `        maxP95LatencyMs: ${SLO_MS}`];
  return appManifest(name, { image: 'autoserve-queue-app:v1', replicas, ...(replicas > 0 ? { spec: scaling.join('\n') } : {}) });
}


/** A phase list -> one trace point a second. */
function trace(phases: [seconds: number, rps: number][]): TracePoint[] {
  const points: TracePoint[] = [];
  for (const [seconds, rps] of phases) {
    for (let i = 0; i < Math.max(1, Math.round(seconds * scale)); i++) points.push({ second: points.length, arrivalsPerSecond: rps, serviceTimeMs: SERVICE_MS });
  }
  return points;
}

const TRACES: Record<string, TracePoint[]> = {
  step: trace([[60, 10], [120, 60], [60, 10]]),
  periodic: trace([[40, 60], [20, 6], [40, 60], [20, 6], [40, 60], [20, 6], [40, 60], [20, 6]]),
};

interface RealRun {
  replicasPerSecond: number[];
  readyPerSecond: number[];
  p95PerSecond: number[];
  startupMs: number[];
  failed: number;
}

function p95(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

async function replay(t: TestDaemon, app: string, points: TracePoint[]): Promise<RealRun> {
  await t.writeManifest(`${app}.yaml`, manifest(app));
  await eventually(async () => expect200(await httpGet(t.options.lbPort, `${app}.localhost`, '/healthz')), { timeoutMs: 60_000 });
  const schedule = traceArrivals(points.map((p) => p.arrivalsPerSecond), 1);
  const latencies: number[][] = points.map(() => []);
  const load = new LoadGenerator({
    port: t.options.lbPort, hostHeader: `${app}.localhost`, ratePerSec: 1, sendAtMs: schedule.sendAtMs,
    path: (i) => `/serve?ms=${points[schedule.secondOf(i)]?.serviceTimeMs ?? SERVICE_MS}`,
    durationMs: points.length * 1000 + 1000, timeoutMs: 30_000, maxSockets: 512,
    // A failed request counts as over the objective in its second (it had no answer in time).
    onOutcome: (index, latencyMs) => latencies[schedule.secondOf(index)]?.push(latencyMs ?? Infinity),
  });
  const started = Date.now();
  const replicasPerSecond: number[] = [];
  const readyPerSecond: number[] = [];
  const sampler = setInterval(() => {
    const status = t.daemon.store.app(app);
    replicasPerSecond.push(status?.replicas.desired ?? 0);
    readyPerSecond.push(status?.replicas.ready ?? 0);
  }, 1000);
  const result = await load.run();
  clearInterval(sampler);
  const containers = await t.containers(app);
  const readyAt = t.daemon.store.events({ app }).filter((e) => e.reason === 'ReplicaReady');
  const startupMs = containers
    .filter((c) => c.createdAtMs > started)
    .map((c) => {
      const ready = readyAt.find((e) => e.message.startsWith(`${c.name}:`));
      return ready ? Date.parse(ready.firstTime ?? ready.time) - c.createdAtMs : NaN;
    })
    .filter((ms) => Number.isFinite(ms));
  await t.removeManifest(`${app}.yaml`);
  await eventually(async () => expect0((await t.containers(app)).length), { timeoutMs: 60_000 });
  return {
    replicasPerSecond: replicasPerSecond.slice(0, points.length),
    readyPerSecond: readyPerSecond.slice(0, points.length),
    p95PerSecond: latencies.map(p95),
    startupMs,
    failed: result.failed,
  };
}

function expect200(r: { status: number }): void {
  if (r.status !== 200) throw new Error(`status ${r.status}`);
}
function expect0(n: number): void {
  if (n !== 0) throw new Error(`${n} containers left`);
}

interface Comparison {
  trace: string;
  seconds: number;
  withinOneShare: number;
  realOver: number;
  simOver: number;
  overError: number;
  realReplicaSeconds: number;
  simReplicaSeconds: number;
  startupSeconds: number;
  failed: number;
}

function compare(name: string, points: TracePoint[], real: RealRun, sim: SimulationResult, startupSeconds: number): Comparison {
  const n = Math.min(points.length, real.replicasPerSecond.length);
  let within = 0;
  for (let s = 0; s < n; s++) if (Math.abs((real.replicasPerSecond[s] ?? 0) - (sim.replicasPerSecond[s] ?? 0)) <= 1) within++;
  const realOver = real.p95PerSecond.filter((p) => p > SLO_MS).length;
  return {
    trace: name,
    seconds: n,
    withinOneShare: within / Math.max(1, n),
    realOver,
    simOver: sim.secondsOverSlo,
    overError: realOver === 0 ? (sim.secondsOverSlo === 0 ? 0 : Infinity) : Math.abs(sim.secondsOverSlo - realOver) / realOver,
    realReplicaSeconds: real.replicasPerSecond.reduce((a, b) => a + b, 0),
    simReplicaSeconds: sim.replicaSeconds,
    startupSeconds,
    failed: real.failed,
  };
}

async function main(): Promise<void> {
  const t = await startTestDaemon('calibrate');
  const rows: Comparison[] = [];
  try {
    // The prune guard keeps apps when the manifest directory empties: a placeholder keeps it non-empty.
    await t.writeManifest('keep.yaml', manifest('keep', 0));
    const spec = parseManifestFile('calibrate.yaml', manifest('x')).apps[0]!.manifest;
    for (const [name, points] of Object.entries(TRACES)) {
      console.error(`[calibrate] replaying ${name} (${points.length} s)...`);
      const real = await replay(t, `cal-${name}`, points);
      const startupSeconds = startupArg === 'measured' ? Math.max(1, Math.round(median(real.startupMs) / 1000)) || 5 : Number(startupArg);
      const sim = runSimulation({
        spec: spec.spec.scaling!, specReplicas: 1, trace: points, sloMs: SLO_MS, startupSeconds,
        concurrencyPerReplica: DEFAULT_CONCURRENCY_PER_REPLICA, scaler: createAutoServeScaler(spec.spec.scaling!, 1),
      });
      rows.push(compare(name, points, real, sim, startupSeconds));
      if (outDir) {
        await mkdir(outDir, { recursive: true });
        const realResult: SimulationResult = { ...sim, policy: 'real', replicasPerSecond: real.replicasPerSecond, p95PerSecond: real.p95PerSecond, secondsOverSlo: rows.at(-1)!.realOver, replicaSeconds: rows.at(-1)!.realReplicaSeconds, changes: [] };
        await writeFile(join(outDir, `${name}.json`), JSON.stringify({ trace: name, real, sim }, null, 2));
        await writeFile(join(outDir, `${name}.html`), await renderHtmlReport({ app: 'calibrate', trace: name, sloMs: SLO_MS, points, results: [realResult, sim] }));
      }
    }
  } finally {
    printTable(rows);
    await t.cleanup().catch((err: unknown) => console.error(`[calibrate] cleanup: ${String(err)}`));
  }
}

function printTable(rows: readonly Comparison[]): void {
  console.log('| trace | seconds | replicas within +-1 | seconds over SLO real / sim (error) | replica-seconds real / sim | start-up used | failed requests |');
  console.log('|---|---:|---:|---|---|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.trace} | ${r.seconds} | ${(100 * r.withinOneShare).toFixed(0)} % | ${r.realOver} / ${r.simOver} (${Number.isFinite(r.overError) ? `${(100 * r.overError).toFixed(0)} %` : 'n/a'}) | ${r.realReplicaSeconds} / ${r.simReplicaSeconds} | ${r.startupSeconds} s | ${r.failed} |`);
  }
}

await main();
