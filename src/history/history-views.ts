// The answers of the history endpoints, shared by the API (which builds them), the CLI and the
// dashboard (which read them). docs/api.md describes each field.
import type { ScalingRecord } from '../store/status-model.js';
import type { HistoryColumns, HistorySample } from './metric-history.js';

/** The latest reading of one replica; null where it could not be measured yet. */
export interface ReplicaLoad {
  id: string;
  name: string;
  /** Share of its CPU limit (of one core without a limit) in use. */
  cpu: number | null;
  cpuCores: number | null;
  /** Share of its memory limit (of host memory without a limit) in use. */
  memory: number | null;
  memoryBytes: number | null;
}

/** How the history is sampled: one point every `intervalSeconds`, at most `points` per app. */
export interface HistoryShape {
  intervalSeconds: number;
  points: number;
}

/** GET /history: the columns of every app (or one, with ?app=). */
export interface HistoryAnswer extends HistoryShape {
  apps: Record<string, HistoryColumns>;
}

/** GET /apps/{name}/history: one app's columns and the scaling decisions in the same time range. */
export interface AppHistoryAnswer extends HistoryShape {
  app: string;
  series: HistoryColumns;
  scaling: ScalingRecord[];
}

/** One row of GET /top: an app's latest sample and its replicas' latest readings. */
export interface TopEntry extends Omit<HistorySample, 't'> {
  name: string;
  /** When the sample was taken (ISO); null before the first sample of the app. */
  time: string | null;
  replicas: ReplicaLoad[];
}

export interface TopAnswer extends HistoryShape {
  apps: TopEntry[];
}
