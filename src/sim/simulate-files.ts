// `autoserve simulate` as an importable function: read the manifest (through the project's parser,
// so the same defaults apply) and the trace, run AutoServe's policy, the baselines asked for, and
// the oracle (always: it is the floor every row is read against).

import { readFile } from 'node:fs/promises';
import { formatManifestError } from '../manifest/validate-paths.js';
import { parseManifestFile } from '../manifest/parse-file.js';
import type { AppManifest, ScalingSpec } from '../manifest/types.js';
import { createHpaBaseline } from './hpa-baseline.js';
import { createKpaBaseline } from './kpa-baseline.js';
import { runOracle } from './oracle.js';
import { createAutoServeScaler } from './sim-scaler.js';
import { runSimulation, type SimulationResult } from './simulate.js';
import { parseTraceCsv, type TracePoint } from './trace.js';

export interface SimulateFilesOptions {
  manifest: string;
  trace: string;
  /** Which app when the manifest file holds several; the first by default. */
  app?: string;
  startupSeconds?: number;
  metricDelaySeconds?: number;
  capacityRpsPerReplica?: number;
  concurrencyPerReplica?: number;
  /** Latency objective; defaults to policy.http.maxP95LatencyMs. */
  sloMs?: number;
  baselines?: readonly BaselineName[];
}

export const BASELINES = ['hpa', 'kpa'] as const;
export type BaselineName = (typeof BASELINES)[number];
const BASELINE_FACTORIES = { hpa: createHpaBaseline, kpa: createKpaBaseline } as const;

export interface SimulateFilesResult {
  app: string;
  trace: string;
  sloMs: number;
  results: SimulationResult[];
}

/** The result and the trace it ran, for the HTML report. */
export interface SimulateFilesRun extends SimulateFilesResult {
  points: TracePoint[];
}

export interface LoadedSimulation {
  manifest: AppManifest;
  spec: ScalingSpec;
  points: TracePoint[];
  sloMs: number;
}

export async function loadSimulation(options: SimulateFilesOptions): Promise<LoadedSimulation> {
  const parsed = parseManifestFile(options.manifest, await readFile(options.manifest, 'utf8'));
  const first = parsed.errors[0];
  if (first) throw new Error(`invalid manifest: ${formatManifestError(first)}`);
  const loaded = options.app === undefined ? parsed.apps[0] : parsed.apps.find((a) => a.manifest.metadata.name === options.app);
  if (!loaded) throw new Error(`${options.manifest}: no App${options.app !== undefined ? ` named ${options.app}` : ''}`);
  const manifest = loaded.manifest;
  const spec = manifest.spec.scaling;
  if (!spec) throw new Error(`${options.manifest}: app ${manifest.metadata.name} has no spec.scaling block to simulate`);
  const sloMs = options.sloMs ?? spec.policy.http?.maxP95LatencyMs;
  if (sloMs === undefined) throw new Error('no latency objective: set policy.http.maxP95LatencyMs or pass --slo-ms');
  const points = parseTraceCsv(await readFile(options.trace, 'utf8'), options.trace);
  return { manifest, spec, points, sloMs };
}

export async function simulateFiles(options: SimulateFilesOptions): Promise<SimulateFilesRun> {
  const { manifest, spec, points, sloMs } = await loadSimulation(options);
  const common = {
    spec,
    specReplicas: manifest.spec.replicas,
    trace: points,
    sloMs,
    ...(options.startupSeconds !== undefined ? { startupSeconds: options.startupSeconds } : {}),
    ...(options.metricDelaySeconds !== undefined ? { metricDelaySeconds: options.metricDelaySeconds } : {}),
    ...(options.capacityRpsPerReplica !== undefined ? { capacityRpsPerReplica: options.capacityRpsPerReplica } : {}),
    ...(options.concurrencyPerReplica !== undefined ? { concurrencyPerReplica: options.concurrencyPerReplica } : {}),
  };
  const results = [runSimulation({ ...common, scaler: createAutoServeScaler(spec, manifest.spec.replicas) })];
  for (const name of options.baselines ?? []) results.push(runSimulation({ ...common, scaler: BASELINE_FACTORIES[name](spec) }));
  results.push(runOracle(common));
  return { app: manifest.metadata.name, trace: options.trace, sloMs, results, points };
}
