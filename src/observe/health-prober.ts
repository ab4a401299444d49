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

// A replica that has not passed yet is probed more often than its interval so it enters the
// upstream quickly; once ready it is probed at its own interval.
const STARTING_PROBE_MS = 250;
// Without a health block a replica is ready when its port accepts connections. docker-proxy
// accepts on the published port even when nothing listens inside and then closes at once, so a
// connection must also stay open this long to count.
const TCP_SETTLE_MS = 150;
const TCP_TIMEOUT_MS = 1_000;
const DEFAULT_TCP_INTERVAL_MS = 2_000;
const DEFAULT_TCP_FAILURES = 3;

interface ProbeState {
  target: ProbeTarget;
  health: ReplicaHealth;
  successes: number;
  failures: number;
  /** When the current run of failures began (after the replica was ready once); undefined while passing. */
  failingSinceMs?: number;
  lastDetail: string;
  timer?: NodeJS.Timeout;
}

/**
 * Probes every replica it is told about and reports each health flip, separating readiness from
 * liveness the way Kubernetes does:
 *  - `starting` becomes `ready` after successThreshold passes in a row;
 *  - `ready` becomes `not-ready` after failureThreshold failures in a row: out of the rotation, still
 *    running and still probed; back to `ready` after successThreshold passes (a busy replica whose
 *    checks time out behind its requests comes back once the load is spread);
 *  - a replica that was ready and then fails every check for `replaceAfterSeconds` (default 60 s)
 *    becomes `unhealthy`, which is final: the planner replaces it. A process that is gone is
 *    replaced at once by the planner anyway (the container exited).
 */
export class HealthProber {
  private readonly states = new Map<string, ProbeState>();

  constructor(
    private readonly onChange: (change: HealthChange) => void,
    private readonly now: () => number = Date.now,
  ) {}

  health(id: string): ReplicaHealth {
    return this.states.get(id)?.health ?? 'starting';
  }

  /** Whether this replica has been probed at least once (its health is known, not assumed). */
  hasResult(id: string): boolean {
    const state = this.states.get(id);
    return !!state && (state.health !== 'starting' || state.successes + state.failures > 0);
  }

  lastDetail(id: string): string | undefined {
    return this.states.get(id)?.lastDetail;
  }

  /** Makes the probed set of one app equal `targets`: new replicas start probing, gone ones stop. */
  sync(app: string, targets: ProbeTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.id, t]));
    for (const [id, state] of this.states) {
      if (state.target.app === app && !wanted.has(id)) this.forget(id);
    }
    for (const target of targets) {
      const existing = this.states.get(target.id);
      if (existing && sameAddress(existing.target.address, target.address) && sameHealth(existing.target.health, target.health)) continue;
      if (existing) this.forget(target.id);
      const state: ProbeState = { target, health: 'starting', successes: 0, failures: 0, lastDetail: 'not probed yet' };
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
    const result = target.health ? await probeHttp(target.address, target.health) : await probeTcp(target.address);
    if (this.states.get(target.id) !== state) return; // forgotten while probing
    state.lastDetail = result.detail;
    const spec = target.health;
    const successThreshold = spec?.successThreshold ?? 1;
    const failureThreshold = spec?.failureThreshold ?? DEFAULT_TCP_FAILURES;
    const before = state.health;
    const now = this.now();
    if (result.ok) {
      state.successes += 1;
      state.failures = 0;
      state.failingSinceMs = undefined;
      if ((before === 'starting' || before === 'not-ready') && state.successes >= successThreshold) state.health = 'ready';
    } else {
      state.failures += 1;
      state.successes = 0;
      if (before !== 'starting') state.failingSinceMs ??= now;
      const replaceAfterMs = (spec?.replaceAfterSeconds ?? DEFAULT_REPLACE_AFTER_SECONDS) * 1000;
      if (before === 'ready' && state.failures >= failureThreshold) state.health = 'not-ready';
      if (state.health === 'not-ready' && now - (state.failingSinceMs ?? now) >= replaceAfterMs) state.health = 'unhealthy';
    }
    if (state.health !== before) this.onChange({ target, from: before, to: state.health, detail: result.detail });
    if (state.health === 'unhealthy') return;
    const interval = spec ? spec.intervalSeconds * 1000 : DEFAULT_TCP_INTERVAL_MS;
    this.schedule(state, state.health === 'starting' ? Math.min(interval, STARTING_PROBE_MS) : interval);
  }
}

function sameHealth(a?: HealthSpec, b?: HealthSpec): boolean {
  return stableJson(a) === stableJson(b);
}

function sameAddress(a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port;
}

interface ProbeResult {
  ok: boolean;
  detail: string;
}

export function probeHttp(address: Address, spec: HealthSpec): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: address.host, port: address.port, path: spec.httpGet.path, timeout: spec.timeoutSeconds * 1000, agent: false },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 400, detail: `GET ${spec.httpGet.path} -> ${status}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${spec.timeoutSeconds}s`)));
    req.on('error', (err) => resolve({ ok: false, detail: `GET ${spec.httpGet.path}: ${err.message}` }));
  });
}

export function probeTcp(address: Address): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.host, port: address.port });
    let settled = false;
    const finish = (ok: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ ok, detail });
    };
    socket.setTimeout(TCP_TIMEOUT_MS, () => finish(false, 'tcp connect timed out'));
    socket.on('connect', () => setTimeout(() => finish(true, 'tcp port open'), TCP_SETTLE_MS));
    socket.on('close', () => finish(false, 'connection closed at once (nothing listening behind the port)'));
    socket.on('error', (err) => finish(false, `tcp: ${err.message}`));
  });
}
