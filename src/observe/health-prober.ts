import http from 'node:http';
import net from 'node:net';
import { stableJson } from '../core/stable-json.js';
import { DEFAULT_REPLACE_AFTER_SECONDS } from '../manifest/schema.js';
import type { HealthSpec } from '../manifest/types.js';
import type { Address, ReplicaHealth } from '../core/replica.js';

/** What to probe for one replica: the address of its health port and the app's health block (if any). */
export interface ProbeTarget {
  id: string;
  app: string;
  name: string;
  address: Address;
  health?: HealthSpec;
}

export interface HealthChange {
  target: ProbeTarget;
  from: ReplicaHealth;
  to: ReplicaHealth;
  detail: string;
}

/** A failed check worth telling the operator about (at most one per probe interval per replica). */
export interface ProbeFailure {
  target: ProbeTarget;
  health: ReplicaHealth;
  /** The probe's result, e.g. "GET /healthz -> 404", "GET /healthz: connection refused". */
  detail: string;
  /** Failures in a row so far. */
  failures: number;
}

/** The last check of one replica, as the status shows it. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
  atMs: number;
}

export interface HealthProberHandlers {
  /** The replica's health flipped (into or out of rotation, or replaced). */
  onChange(change: HealthChange): void;
  /** A check failed and is reportable (see ProbeFailure). */
  onFailure?(failure: ProbeFailure): void;
}

// A replica that has not passed yet is probed more often than its interval so it enters the
// upstream quickly: every 50 ms for its first 2 s (most start within that; a request may be held
// for it), then every 250 ms; once ready it is probed at its own interval.
const STARTING_PROBE_MS = 250;
const FIRST_PROBES_MS = 50;
const FIRST_PROBES_WINDOW_MS = 2_000;
// Without a health block a replica is ready when its port accepts connections. At its address on
// our network a closed port refuses at once, so a connect is proof. docker-proxy (a published port,
// `proxied`) accepts even when nothing listens inside and then closes: there a connection must also
// stay open this long to count.
const TCP_SETTLE_MS = 150;
const TCP_TIMEOUT_MS = 1_000;
const DEFAULT_TCP_INTERVAL_MS = 2_000;
const DEFAULT_TCP_FAILURES = 3;

interface ProbeState {
  target: ProbeTarget;
  /** When probing began (the first probes come faster). */
  sinceMs: number;
  health: ReplicaHealth;
  successes: number;
  failures: number;
  /** When the current run of failures began. */
  failingSinceMs?: number;
  /** A check is under way (it schedules the next one when it ends). */
  probing?: boolean;
  /** When the current run of passed checks began (undefined after a failed one). */
  passingSinceMs?: number;
  firstProbeAtMs?: number;
  lastReportAtMs?: number;
  last?: ProbeResult;
  timer?: NodeJS.Timeout;
}

/**
 * Probes every replica it is told about and reports each health flip. Readiness and liveness are
 * one check read two ways, as Kubernetes' separate probes would be:
 * - `starting` becomes `ready` after successThreshold passes in a row;
 * - `ready` becomes `not-ready` after failureThreshold failures in a row: out of rotation, not killed;
 * - `not-ready` becomes `ready` again after successThreshold passes;
 * - `not-ready` becomes `unhealthy` once its failures have lasted replaceAfterSeconds: the planner
 *   replaces it. `unhealthy` is final.
 * A replica that never passed stays `starting`: the rollout's progress deadline gives up on it.
 */
export class HealthProber {
  private readonly states = new Map<string, ProbeState>();
  private readonly handlers: HealthProberHandlers;

  constructor(handlers: HealthProberHandlers | ((change: HealthChange) => void), private readonly clock: () => number = Date.now) {
    this.handlers = typeof handlers === 'function' ? { onChange: handlers } : handlers;
  }

  health(id: string): ReplicaHealth {
    return this.states.get(id)?.health ?? 'starting';
  }

  /**
   * Since when the replica has been ready and passed every check (undefined unless it is ready and
   * its last check passed): a failed check below failureThreshold keeps it in rotation, but breaks
   * this run, so a replica that flaps never counts as available (rollout.minReadySeconds).
   */
  readySince(id: string): number | undefined {
    const state = this.states.get(id);
    return state?.health === 'ready' ? state.passingSinceMs : undefined;
  }

  /** Whether this replica has been probed at least once (its health is known, not assumed). */
  hasResult(id: string): boolean {
    return this.states.get(id)?.last !== undefined;
  }

  /**
   * Whether this replica is probed but its first check has not answered yet, for at most `maxMs`
   * since probing began: until then "starting" may only mean "not known yet".
   */
  awaitingFirstResult(id: string, maxMs: number): boolean {
    const state = this.states.get(id);
    return !!state && state.last === undefined && this.clock() - state.sinceMs < maxMs;
  }

  /** The replica's last check, if it had one. */
  lastResult(id: string): ProbeResult | undefined {
    return this.states.get(id)?.last;
  }

  /** Makes the probed set of one app equal `targets`: new replicas start probing, gone ones stop. */
  sync(app: string, targets: ProbeTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.id, t]));
    for (const [id, state] of this.states) {
      if (state.target.app === app && !wanted.has(id)) this.forget(id);
    }
    for (const target of targets) {
      const existing = this.states.get(target.id);
      if (existing) {
        // New check settings for the same replica (a health-only change: path, interval, port):
        // its readiness stands until the new checks say otherwise (resetting it to "starting"
        // took every replica of the app out of nginx at once), and the new check runs now.
        if (!sameAddress(existing.target.address, target.address) || !sameHealth(existing.target.health, target.health)) {
          existing.target = target;
          if (!existing.probing) {
            if (existing.timer) clearTimeout(existing.timer);
            this.schedule(existing, 0);
          }
        }
        continue;
      }
      const state: ProbeState = { target, sinceMs: this.clock(), health: 'starting', successes: 0, failures: 0 };
      this.states.set(target.id, state);
      this.schedule(state, 0);
    }
  }

  forget(id: string): void {
    const state = this.states.get(id);
    if (state?.timer) clearTimeout(state.timer);
    this.states.delete(id);
  }

  close(): void {
    for (const id of [...this.states.keys()]) this.forget(id);
  }

  private schedule(state: ProbeState, delayMs: number): void {
    state.timer = setTimeout(() => void this.probeOnce(state), delayMs);
    state.timer.unref();
  }

  private async probeOnce(state: ProbeState): Promise<void> {
    const { target } = state;
    state.probing = true;
    const result = target.health ? await probeHttp(target.address, target.health) : await probeTcp(target.address);
    state.probing = false;
    if (this.states.get(target.id) !== state) return; // forgotten while probing
    const now = this.clock();
    state.firstProbeAtMs ??= now;
    state.last = { ok: result.ok, detail: result.detail, atMs: now };
    state.passingSinceMs = result.ok ? (state.passingSinceMs ?? now) : undefined;
    const before = state.health;
    state.health = nextHealth(state, result.ok, now, thresholdsOf(target.health));
    if (state.health !== before) this.handlers.onChange({ target, from: before, to: state.health, detail: result.detail });
    if (!result.ok) this.reportFailure(state, now);
    if (state.health === 'unhealthy') return;
    const interval = intervalMsOf(state.target.health); // new settings may have come meanwhile
    const starting = now - state.sinceMs < FIRST_PROBES_WINDOW_MS ? FIRST_PROBES_MS : STARTING_PROBE_MS;
    this.schedule(state, state.health === 'starting' ? Math.min(interval, starting) : interval);
  }

  /**
   * Failed checks are reported at the probe interval at most. A replica that never passed is
   * reported once its checks have failed failureThreshold times in a row over a whole interval
   * (a replica still booting refuses connections for a moment; that is not news).
   */
  private reportFailure(state: ProbeState, now: number): void {
    const interval = intervalMsOf(state.target.health);
    if (state.lastReportAtMs !== undefined && now - state.lastReportAtMs < interval) return;
    if (state.health === 'starting') {
      const { failureThreshold } = thresholdsOf(state.target.health);
      if (state.failures < failureThreshold || now - (state.failingSinceMs ?? now) < interval) return;
    }
    state.lastReportAtMs = now;
    this.handlers.onFailure?.({ target: state.target, health: state.health, detail: state.last!.detail, failures: state.failures });
  }
}

export interface Thresholds {
  successThreshold: number;
  failureThreshold: number;
  replaceAfterMs: number;
}

function thresholdsOf(health: HealthSpec | undefined): Thresholds {
  return {
    successThreshold: health?.successThreshold ?? 1,
    failureThreshold: health?.failureThreshold ?? DEFAULT_TCP_FAILURES,
    replaceAfterMs: (health?.replaceAfterSeconds ?? DEFAULT_REPLACE_AFTER_SECONDS) * 1000,
  };
}

function intervalMsOf(health: HealthSpec | undefined): number {
  return health ? health.intervalSeconds * 1000 : DEFAULT_TCP_INTERVAL_MS;
}

/** One check's effect on a replica's health (the state machine in the class comment). */
export function nextHealth(
  state: Pick<ProbeState, 'health' | 'successes' | 'failures' | 'failingSinceMs'>,
  ok: boolean,
  now: number,
  t: Thresholds,
): ReplicaHealth {
  if (ok) {
    state.successes += 1;
    state.failures = 0;
    state.failingSinceMs = undefined;
    return state.health !== 'ready' && state.health !== 'unhealthy' && state.successes >= t.successThreshold ? 'ready' : state.health;
  }
  state.failures += 1;
  state.successes = 0;
  state.failingSinceMs ??= now;
  let health = state.health;
  if (health === 'ready' && state.failures >= t.failureThreshold) health = 'not-ready';
  if (health === 'not-ready' && now - state.failingSinceMs >= t.replaceAfterMs) health = 'unhealthy';
  return health;
}

function sameHealth(a?: HealthSpec, b?: HealthSpec): boolean {
  return stableJson(a) === stableJson(b);
}

function sameAddress(a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port && !!a.proxied === !!b.proxied;
}

interface CheckResult {
  ok: boolean;
  detail: string;
}

/** A health answer's body is read (and thrown away) up to this much; a longer one is cut off. */
const MAX_PROBE_BODY_BYTES = 64 * 1024;

/**
 * GET the health path: the status line decides, within `timeoutSeconds` in all (a server that
 * trickles its headers fails at the deadline, not at its first idle second). The body is drained
 * up to MAX_PROBE_BODY_BYTES and until the same deadline, then the connection is closed: an
 * endless body (a stream, server-sent events) never keeps a socket open beyond one probe.
 */
export function probeHttp(address: Address, spec: HealthSpec): Promise<CheckResult> {
  const what = `GET ${spec.httpGet.path}`;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: CheckResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = http.get({ host: address.host, port: address.port, path: spec.httpGet.path, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      finish({ ok: status >= 200 && status < 400, detail: `${what} -> ${status}` });
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_PROBE_BODY_BYTES) req.destroy();
      });
      res.on('end', () => clearTimeout(deadline));
      res.on('error', () => undefined); // cut off by us
    });
    const deadline = setTimeout(() => req.destroy(new ProbeTimeoutError(spec.timeoutSeconds)), spec.timeoutSeconds * 1000);
    req.on('error', (err) => finish({ ok: false, detail: `${what}: ${describeFailure(err)}` }));
    req.on('close', () => clearTimeout(deadline));
  });
}

class ProbeTimeoutError extends Error {
  constructor(seconds: number) {
    super(`timeout after ${seconds}s`);
  }
}

/** A probe error in the words an operator searches for ("connection refused", "timeout after 2s"). */
function describeFailure(err: NodeJS.ErrnoException): string {
  if (err instanceof ProbeTimeoutError) return err.message;
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return err.message === 'socket hang up' ? 'connection closed before an answer' : err.message;
  }
}

export function probeTcp(address: Address): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.host, port: address.port });
    let settled = false;
    const finish = (ok: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ ok, detail });
    };
    socket.setTimeout(TCP_TIMEOUT_MS, () => finish(false, `tcp: timeout after ${TCP_TIMEOUT_MS / 1000}s`));
    socket.on('connect', () => {
      if (address.proxied) setTimeout(() => finish(true, 'tcp port open'), TCP_SETTLE_MS);
      else finish(true, 'tcp port open');
    });
    socket.on('close', () => finish(false, 'tcp: connection closed at once (nothing listening behind the port)'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(false, `tcp: ${describeFailure(err)}`));
  });
}
