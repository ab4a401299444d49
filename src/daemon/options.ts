import { join, resolve } from 'node:path';
import { DEFAULT_INSTANCE, isInstanceName } from '../core/labels.js';
import { parseMemoryBytes } from '../core/memory-quantity.js';
import type { GitCredentials } from '../source/git-credentials.js';

export interface DaemonOptions {
  manifestsDir: string;
  stateDir: string;
  dbPath: string;
  logLevel: string;
  /** Periodic resync of every app, in ms. */
  resyncMs: number;
  /** Read-only status endpoint. */
  host: string;
  port: number;
  /** Load balancer listen address (own nginx master). */
  lbHost: string;
  lbPort: number;
  /** Manage a system nginx through this conf.d directory instead of running our own master. */
  nginxConfDir?: string;
  /** Our own nginx's worker processes; default one per core but one (defaultWorkerProcesses). */
  nginxWorkers?: number;
  /** Let an empty or missing manifest directory remove every app. */
  allowEmptyPrune: boolean;
  /** Debounce of manifest file changes, in ms. */
  debounceMs: number;
  /** Controller instance: only containers labelled with it are seen or touched. */
  instance: string;
  /** Extra labels on every container (tests mark theirs). */
  containerLabels?: Record<string, string>;
  authToken?: string;
  enableWriteApi: boolean;
  /** The read endpoint shows literal env values of the manifests as "(redacted)". */
  redactEnvValues: boolean;
  /** Controller variables apps may read with valueFrom (names, or prefixes ending in "*"). */
  openEnv: string[];
  /** Directory of secret files apps may read with valueFrom: {secret}. */
  secretsDir?: string;
  /** Git mode: poll this repository instead of watching manifestsDir. */
  gitUrl?: string;
  /** Git mode, https remote: handed to git by a credential helper, never on its command line. */
  gitCredentials?: GitCredentials;
  gitBranch?: string;
  /** Subdirectory of the repository that holds the manifests. */
  gitPath?: string;
  gitIntervalMs?: number;
  /** Metric history sample interval (tests shorten it; default HISTORY_INTERVAL_MS). */
  historyIntervalMs?: number;
  /** Run without a load balancer (tests of the container side alone). */
  disableLb?: boolean;
  /** Cap on all logs in the state dir together (the controller log, nginx's logs), in bytes. */
  logMaxBytes: number;
  /** docker: this host's engine; swarm: a Swarm, from one of its managers (docs/cluster.md). */
  runtime: RuntimeKind;
  /** Swarm: the image of the overlay gateway container (anything with `sleep`). */
  swarmGatewayImage?: string;
}

export const RUNTIME_KINDS = ['docker', 'swarm'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

export const DEFAULT_OPTIONS = {
  host: '127.0.0.1',
  port: 8000,
  lbHost: '127.0.0.1',
  lbPort: 8080,
  logLevel: 'info',
  resyncMs: 30_000,
  debounceMs: 150,
  /** docs/operations.md, "Logs": rotated by size, all of them together under this. */
  logMaxSize: '256Mi',
} as const;

export function resolveOptions(input: Partial<DaemonOptions> & { manifestsDir?: string; stateDir?: string }): DaemonOptions {
  const instance = input.instance ?? DEFAULT_INSTANCE;
  // The instance names containers and networks (autoserve-<instance>, autoserve-<instance>.<app>).
  if (!isInstanceName(instance)) throw new Error(`--instance ${JSON.stringify(instance)}: use 1-63 letters, digits, "_" or "-", starting with a letter or digit`);
  const stateDir = resolve(input.stateDir ?? 'state');
  return {
    ...DEFAULT_OPTIONS,
    logMaxBytes: parseByteSize(DEFAULT_OPTIONS.logMaxSize),
    allowEmptyPrune: false,
    enableWriteApi: false,
    runtime: 'docker',
    redactEnvValues: false,
    openEnv: [],
    instance: DEFAULT_INSTANCE,
    ...input,
    manifestsDir: resolve(input.manifestsDir ?? 'manifests'),
    stateDir,
    dbPath: resolve(input.dbPath ?? join(stateDir, 'autoserve.json')),
  };
}

/** Parses "30s", "500ms", "2m" or a bare number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 30s, 500ms, 2m)`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(value * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit]!);
}

/** Parses a size as manifests write memory ("256Mi", "1Gi", "500M", bytes); at least 1 MiB for logs. */
export function parseByteSize(text: string): number {
  const bytes = parseMemoryBytes(text.trim());
  if (bytes < 1024 * 1024) throw new Error(`size too small: ${JSON.stringify(text)} (at least 1Mi)`);
  return bytes;
}

/** Parses --nginx-workers: a whole number from 1 to 64. */
export function parseNginxWorkers(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 64) throw new Error(`--nginx-workers ${JSON.stringify(text)}: use a whole number from 1 to 64`);
  return n;
}
