// The one status model: the same objects live in the store, the HTTP endpoint and the CLI.
// docs/status.md describes each field.
import type { AppSpec } from '../manifest/types.js';

export type Phase = 'Pending' | 'Progressing' | 'Running' | 'Degraded' | 'Failed' | 'Stopped';

export interface Condition {
  type: string; // Ready, Progressing, RolloutFailed, ManifestInvalid, ImagePullFailed, ...
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface InstanceStatus {
  id: string;
  name: string;
  revision: string;
  slot: number;
  state: string;
  health: string;
  draining: boolean;
  /** Where nginx reaches the traffic port ("172.18.0.3:8080", on the replica's network); absent when stopped. */
  address?: string;
  /** The network of ours the replica is on; absent for a replica made before networks. */
  network?: string;
  /** The host port the traffic port is published on, when the manifest publishes it. */
  hostPort?: number;
  /** The machine it runs on (Swarm); absent on a single host. */
  node?: string;
  startedAt: string;
  /** The replica's last health check: its result as the probe saw it, e.g. "GET /healthz -> 404". */
  lastProbe?: { ok: boolean; detail: string; at: string };
}

export interface SourceRevision {
  commit: string;
  message: string;
  time: string;
}

export interface AppStatus {
  name: string;
  /** The manifest file the last good spec came from. */
  file?: string;
  /** The last good (applied) spec. */
  spec?: AppSpec;
  /** Bumped on every change of the applied spec. */
  generation: number;
  /** The generation the last reconcile pass acted on. */
  observedGeneration: number;
  phase: Phase;
  conditions: Condition[];
  replicas: { desired: number; ready: number; updated: number };
  instances: InstanceStatus[];
  /** Container revision (hash of what shapes a container) the app should run. */
  containerRevision?: string;
  /** A rollout to this container revision failed; it is not retried until the spec changes. */
  haltedRevision?: string;
  /** The rollout under way: when it started and last made progress (its deadline counts from there). */
  rollout?: RolloutProgress;
  /** The last revision every wanted replica ran and was ready on: it serves while a later rollout is halted. */
  stable?: StableRevision;
  /** The source commit applied (git mode). */
  revision?: SourceRevision;
  /** Replica count chosen by the autoscaler (never written to the manifest). */
  autoscaledReplicas?: number;
  /** The autoscaler's latest look: what it would do and what holds it back right now. */
  scaling?: ScalingView;
  createdAt: string;
  updatedAt: string;
}

/**
 * One rollout's clock. The progress deadline is per rollout: it runs from the start and restarts
 * only when more new replicas are available than ever before in this rollout, so a revision that
 * crash-loops or flaps (replicas replaced again and again) fails like one that never gets ready.
 */
export interface RolloutProgress {
  revision: string;
  startedAtMs: number;
  progressAtMs: number;
  /** The most new replicas available at once so far. */
  available: number;
}

export interface StableRevision {
  revision: string;
  /** The spec it came from (env as written: valueFrom references, never their values). */
  spec: AppSpec;
}

export interface ScalingView {
  /** max over metrics of ceil(current x observed / target), clamped, before windows and guards. */
  recommendation: number;
  /** What was decided, or what holds the count back now (window, cooldown, clamp, missing data...). */
  reason: string;
  heldBy?: string;
  metrics: Record<string, { value: number | null; target: number }>;
  decidedAt: string;
}

export interface EventRecord {
  id: number;
  time: string;
  firstTime: string;
  app?: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Repeats of the same event collapse into one row (a crash loop is one row with a count). */
  count: number;
}

export interface ScalingRecord {
  time: string;
  app: string;
  from: number;
  to: number;
  reason: string;
  metrics: Record<string, { value: number | null; target: number }>;
}

export interface StoreData {
  version: 1;
  apps: Record<string, AppStatus>;
  events: EventRecord[];
  scalingHistory: ScalingRecord[];
  nextEventId: number;
  /** host+pathPrefix -> the app that holds it (the first holder keeps a contested route). */
  routeOwners?: Record<string, string>;
}

export function emptyStoreData(): StoreData {
  return { version: 1, apps: {}, events: [], scalingHistory: [], nextEventId: 1 };
}
