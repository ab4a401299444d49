import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createAutoServeScaler,
  createHpaBaseline,
  formatSummaryTable,
  formatTimeline,
  formatTraceCsv,
  parseTraceCsv,
  runSimulation,
  seededRandom,
  simulateFiles,
  traceGenerator,
  type TracePoint,
} from '../../../src/sim/index.js';
import type { ScalingSpec } from '../../../src/manifest/types.js';

const stepTrace = () => traceGenerator('step')!.generate();

const SPEC: ScalingSpec = {
  minReplicas: 1,
  maxReplicas: 30,
  policy: { mode: 'auto', cooldownSeconds: 30, http: { targetRPSPerReplica: 50, maxP95LatencyMs: 200, scaleOutThresholdPct: 100, scaleInThresholdPct: 60, windowSeconds: 10 } },
};

function constant(seconds: number, rps: number): TracePoint[] {
  return Array.from({ length: seconds }, (_, second) => ({ second, arrivalsPerSecond: rps, serviceTimeMs: 50 }));
}

describe('trace CSV', () => {
  it('parses rows, skips comments and the header, fills skipped seconds', () => {
    const points = parseTraceCsv('# a comment\nsecond,arrivals_per_second,service_time_ms\n0,10,50\n3,20,40\n');
    expect(points).toEqual([
      { second: 0, arrivalsPerSecond: 10, serviceTimeMs: 50 },
      { second: 1, arrivalsPerSecond: 10, serviceTimeMs: 50 },
      { second: 2, arrivalsPerSecond: 10, serviceTimeMs: 50 },
      { second: 3, arrivalsPerSecond: 20, serviceTimeMs: 40 },
    ]);
  });

  it.each([
    ['0,10\n', /expected 3 columns/],
    ['0,-1,50\n', /arrivals_per_second must be >= 0/],
    ['0,1,0\n', /service_time_ms must be > 0/],
    ['1,1,1\n1,1,1\n', /t.csv:2: second 1 does not increase/],
    ['', /no rows/],
    ['0,10,20\n100000000,10,20\n', /t.csv:2: second 100000000 is past 1209600/],
  ])('rejects %j', (text, message) => {
    expect(() => parseTraceCsv(text, 't.csv')).toThrow(message);
  });

  it('round-trips through formatTraceCsv', () => {
    const points = stepTrace();
    expect(parseTraceCsv(formatTraceCsv(points, 'x'))).toEqual(points);
  });

  it('the seeded generator is deterministic', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});

describe('runSimulation', () => {
  it('a flat load the replicas can hold never scales and never misses the objective', () => {
    const r = runSimulation({ spec: SPEC, specReplicas: 2, trace: constant(300, 90), sloMs: 200, scaler: createAutoServeScaler(SPEC, 2) });
    expect(r.changes).toEqual([]);
    expect(r.secondsOverSlo).toBe(0);
    expect(r.replicaSeconds).toBe(600);
  });

  it('scales out on a step, new replicas serve after the start-up time, and scales back in', () => {
    const trace = [...constant(60, 90), ...constant(120, 400).map((p) => ({ ...p, second: p.second + 60 })), ...constant(180, 90).map((p) => ({ ...p, second: p.second + 180 }))];
    const r = runSimulation({ spec: SPEC, specReplicas: 2, trace, sloMs: 200, startupSeconds: 5, scaler: createAutoServeScaler(SPEC, 2) });
    expect(r.changes[0]).toMatchObject({ from: 2 });
    expect(r.changes[0]!.reason).toMatch(/^panic/);
    expect(r.replicasPerSecond[70]).toBeGreaterThanOrEqual(8); // 400 rps: ceil(400 / 55), within a few seconds of the step
    expect(r.changes.at(-1)!.to).toBeLessThan(r.maxReplicas);
    expect(r.directionChanges).toBe(1);
    expect(r.secondsOverSlo).toBeGreaterThan(0); // the step itself, before new replicas are ready
    expect(r.secondsOverSlo).toBeLessThan(60); // and the queue it left at the first replicas drains
  });

  it('HPA baseline: 15 s syncs, scale-up at most doubling or +4, 300 s scale-down stabilization', () => {
    const trace = [...constant(60, 90), ...constant(120, 1000).map((p) => ({ ...p, second: p.second + 60 })), ...constant(600, 90).map((p) => ({ ...p, second: p.second + 180 }))];
    const r = runSimulation({ spec: SPEC, specReplicas: 2, trace, sloMs: 200, scaler: createHpaBaseline(SPEC) });
    for (const c of r.changes) {
      expect(c.second % 15).toBe(0);
      if (c.to > c.from) expect(c.to).toBeLessThanOrEqual(Math.max(2 * c.from, c.from + 4));
    }
    const firstIn = r.changes.find((c) => c.to < c.from);
    expect(firstIn?.second).toBeGreaterThanOrEqual(180 + 285);
  });

  it('the HPA baseline needs a metric it knows', () => {
    const latencyOnly: ScalingSpec = { ...SPEC, policy: { mode: 'auto', cooldownSeconds: 30, http: { maxP95LatencyMs: 200, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 } } };
    expect(() => createHpaBaseline(latencyOnly)).toThrow(/targetRPSPerReplica, cpu or connections/);
  });

  it('formats a summary table and a timeline', () => {
    const r = runSimulation({ spec: SPEC, specReplicas: 2, trace: stepTrace(), sloMs: 200, scaler: createAutoServeScaler(SPEC, 2) });
    expect(formatSummaryTable([r])).toMatch(/^policy\s+seconds over SLO\s+replica-seconds/);
    expect(formatTimeline(r)).toMatch(/autoserve: replicas per minute .* [▁▂▃▄▅▆▇█]{10}\n\s+2:0\d\s+2 -> /);
  });
});

describe('simulateFiles', () => {
  it('loads the manifest through the project parser (defaults applied) and runs the policies and the oracle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-'));
    const manifest = join(dir, 'app.yaml');
    const trace = join(dir, 'trace.csv');
    await writeFile(manifest, [
      'apiVersion: v1', 'kind: App', 'metadata: {name: web}', 'spec:', '  type: http', '  image: web:1',
      '  ports: [{containerPort: 8080}]', '  scaling:', '    policy:', '      http: {targetRPSPerReplica: 50, maxP95LatencyMs: 200}', '',
    ].join('\n'));
    await writeFile(trace, formatTraceCsv(constant(120, 40)));
    const run = await simulateFiles({ manifest, trace, baselines: ['hpa', 'kpa'] });
    expect(run).toMatchObject({ app: 'web', sloMs: 200 });
    expect(run.results.map((r) => r.policy)).toEqual(['autoserve', 'hpa', 'kpa', 'oracle']);
    await expect(simulateFiles({ manifest, trace, sloMs: undefined, app: 'other' })).rejects.toThrow(/no App named other/);
  });
});
