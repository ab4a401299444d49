import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { routeHoldOf } from '../../manifest/scale-to-zero.js';
import type { LoadedApp } from '../../manifest/types.js';
import { removeCondition, setCondition } from '../../store/conditions.js';
import type { Store } from '../../store/store.js';
import type { ApplyResult, LoadBalancer } from './load-balancer.js';
import { resolveRouteConflicts, type ResolvedRoutes, type RouteConflict } from './plan-routes.js';
import type { HoldSupport } from '../../core/activity.js';
import { addressKey, servingAddresses } from '../../core/readiness.js';
import type { Address, LiveReplica } from '../../core/replica.js';
import type { AppRoute, RouteTable } from '../../core/routes.js';
import { RouteSync } from './route-sync.js';

/** How often the nginx master is checked (a pid file and a /proc read): a dead one is restarted within this. */
const LIVENESS_CHECK_MS = 1_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** Held-back changes that pass by themselves (a full disk) are tried again at least this often. */
const RETRY_LATER_MAX_MS = 5_000;
/** Longest wait at start for adopted replicas' first probe before routes are synced anyway. */
export const WARMUP_MAX_MS = 10_000;
const WARMUP_POLL_MS = 50;

export interface RoutesControllerDeps {
  balancer: LoadBalancer & { ensureRunning?: () => Promise<unknown> };
  store: Store;
  logger: Logger;
  /** Every declared app at its last good spec. */
  apps: () => LoadedApp[];
  /** An app's replicas with their health and drain state now; the ready ones are routed (core/readiness). */
  replicasOf: (app: string) => LiveReplica[];
  /** An app's served replicas changed (its status's "ready" follows what nginx serves). */
  onServedChanged?: (app: string) => void;
  /** Called after each apply: whether nginx took everything, and how long it took. */
  onApplied?: (outcome: { ok: boolean; reloaded: boolean; durationMs: number }) => void;
}

/**
 * Owns nginx: builds the routing table from every app's ingress and serving replicas, resolves
 * host+path conflicts (the first holder keeps a route), and applies it through one coalescing
 * RouteSync. A failed apply keeps the running config, is recorded, and is retried with backoff;
 * an nginx master that died is started again.
 *
 * Nothing is applied before `warmUp` lets it: after a controller restart, adopted replicas are
 * "starting" to us until their first probe, and a sync then would publish them as gone.
 */
export class RoutesController {
  private readonly sync: RouteSync;
  private owners: Map<string, string>;
  private lastConflicts = new Map<string, string>();
  private lastDegraded = new Map<string, string>();
  private retryDelay = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private checking = false;
  private pending: ResolvedRoutes | undefined;
  /** Per app, the upstream addresses (addressKey) nginx serves since the last successful apply. */
  private served = new Map<string, Set<string>>();
  /** Apps whose route, as nginx serves it, holds requests that find no replica (scale to zero). */
  private holding = new Set<string>();
  private openWarm!: () => void;
  private readonly warm = new Promise<void>((resolve) => (this.openWarm = resolve));

  constructor(private readonly deps: RoutesControllerDeps) {
    this.owners = new Map(Object.entries(deps.store.data.routeOwners ?? {}));
    // The sync reads the table; apply() records the resolution it came from once it is served.
    this.sync = new RouteSync({
      getTable: () => {
        this.pending = this.resolve();
        return this.pending.table;
      },
      apply: (table) => this.apply(table),
    });
  }

  async start(): Promise<void> {
    await this.deps.balancer.ensureRunning?.();
    this.livenessTimer = setInterval(() => void this.checkLiveness(), LIVENESS_CHECK_MS);
    this.livenessTimer.unref();
  }

  /**
   * Lets syncs through once `settled()` (every adopted replica has had its first probe) or after
   * `maxMs`, whichever comes first, and syncs then.
   */
  async warmUp(settled: () => boolean, maxMs = WARMUP_MAX_MS): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (!settled() && Date.now() < deadline && !this.closed) await new Promise((r) => setTimeout(r, WARMUP_POLL_MS));
    this.openWarm();
    this.requestSoon();
  }

  /**
   * Resolves once nginx serves the table as of this call (or later); waits for the warm-up first.
   * `urgent`: do not wait to coalesce more changes.
   */
  async request(opts: { urgent?: boolean } = {}): Promise<ApplyResult> {
    await this.warm;
    return this.sync.request(opts);
  }

  /**
   * Asks for a sync without waiting for it; a failure is logged (apply() retries it with backoff).
   * A change of `app` while nginx serves none of its replicas goes out at once: its requests are
   * held (scale to zero) or answered 503 until then.
   */
  requestSoon(app?: string): void {
    const urgent = app !== undefined && this.servedCount(app) === 0;
    this.request({ urgent }).catch((err: unknown) => {
      if (!this.closed) this.deps.logger.warn({ err: errorMessage(err) }, 'route sync failed');
    });
  }

  close(): void {
    this.closed = true;
    this.openWarm();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    this.sync.close();
  }

  /**
   * The whole desired routing table, conflicts resolved. No side effect: the resolution (who holds
   * a contested route, who lost it) is recorded once nginx serves it, in apply().
   */
  table(): RouteTable {
    return this.resolve().table;
  }

  private resolve(): ResolvedRoutes {
    const desired: AppRoute[] = this.deps.apps().map((app) => {
      const name = app.manifest.metadata.name;
      const { host, pathPrefix } = app.manifest.spec.ingress;
      const servers = app.manifest.spec.state === 'down' ? [] : servingAddresses(this.deps.replicasOf(name), app.manifest.spec);
      const held = routeHoldOf(app.manifest.spec, this.deps.store.app(name)?.zero !== undefined);
      const hold = held ? { hold: { timeoutSeconds: held.wakeTimeoutSeconds, startingPage: held.startingPage } } : {};
      return { app: name, host, pathPrefix, servers, ...hold };
    });
    return resolveRouteConflicts(desired, this.owners);
  }

  /** How many addresses of the app nginx routes to (as of the last successful apply). */
  servedCount(app: string): number {
    return this.served.get(app)?.size ?? 0;
  }

  /** Scale to zero: whether the load balancer can hold requests for a sleeping app. */
  holdSupport(): HoldSupport {
    return this.deps.balancer.holdSupport();
  }

  /** Whether nginx holds the app's requests when no replica serves (as of the last successful apply). */
  holdsRequests(app: string): boolean {
    return this.holding.has(app);
  }

  /** Whether nginx routes to this address of the app (as of the last successful apply). */
  isServed(app: string, address: Address | undefined): boolean {
    return address !== undefined && (this.served.get(app)?.has(addressKey(address)) ?? false);
  }

  private recordServed(table: RouteTable, result: ApplyResult): void {
    const degraded = new Set(result.degraded.map((d) => d.app));
    const next = new Map<string, Set<string>>();
    const holding = new Set<string>();
    for (const route of table.routes) {
      // A held-back app keeps what it had: nginx did not take its new servers, nor its hold.
      const heldBack = degraded.has(route.app);
      next.set(route.app, heldBack ? (this.served.get(route.app) ?? new Set()) : new Set(route.servers.map(addressKey)));
      if (heldBack ? this.holding.has(route.app) : route.hold !== undefined) holding.add(route.app);
    }
    this.holding = holding;
    const changed = [...new Set([...next.keys(), ...this.served.keys()])].filter((app) => !sameAddresses(this.served.get(app), next.get(app)));
    this.served = next;
    for (const app of changed) this.deps.onServedChanged?.(app);
  }

  /** A served resolution: its owners hold their routes from now on, its losers are told why. */
  private recordResolution(resolved: ResolvedRoutes): void {
    this.recordConflicts(resolved.conflicts);
    if (!sameOwners(this.owners, resolved.owners)) {
      this.owners = resolved.owners;
      this.deps.store.setRouteOwners(Object.fromEntries(resolved.owners));
    }
  }

  private async apply(table: RouteTable): Promise<ApplyResult> {
    const { store, logger } = this.deps;
    try {
      const result = await this.deps.balancer.apply(table);
      if (this.pending?.table === table) this.recordResolution(this.pending);
      this.recordServed(table, result);
      this.recordDegraded(result);
      if (result.retryLater) this.scheduleRetry(RETRY_LATER_MAX_MS);
      else this.retryDelay = RETRY_MIN_MS;
      if (result.drift) store.addEvent({ type: 'Warning', reason: 'DriftReverted', message: 'the nginx config had been edited by hand; the rendered config was restored' });
      if (result.changed) this.deps.onApplied?.({ ok: result.degraded.length === 0, reloaded: result.reloaded, durationMs: result.durationMs });
      return result;
    } catch (err) {
      const message = errorMessage(err);
      this.deps.onApplied?.({ ok: false, reloaded: false, durationMs: 0 });
      store.addEvent({ type: 'Warning', reason: 'NginxApplyFailed', message });
      logger.warn({ err: message, retryInMs: this.retryDelay }, 'nginx apply failed; the running config stays');
      this.scheduleRetry();
      throw err;
    }
  }

  private scheduleRetry(maxMs = RETRY_MAX_MS): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.sync.request().catch(() => undefined);
    }, Math.min(maxMs, this.retryDelay));
    this.retryTimer.unref();
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
  }

  private async checkLiveness(): Promise<void> {
    if (this.closed || this.checking || !this.deps.balancer.ensureRunning) return;
    this.checking = true;
    try {
      if (await this.deps.balancer.isAlive()) return;
      this.deps.store.addEvent({ type: 'Warning', reason: 'NginxRestarted', message: 'the nginx master was not running; starting it again' });
      // Through the one RouteSync: apply() starts the master, and never two at once.
      await this.sync.request();
    } catch (err) {
      this.deps.logger.warn({ err: errorMessage(err) }, 'nginx liveness check failed');
    } finally {
      this.checking = false;
    }
  }

  private recordConflicts(conflicts: RouteConflict[]): void {
    const now = new Map(conflicts.map((c) => [c.app, `${c.host}${c.pathPrefix} is already routed to ${c.heldBy}`]));
    for (const conflict of conflicts) {
      const message = now.get(conflict.app)!;
      if (this.lastConflicts.get(conflict.app) === message) continue;
      for (const app of [conflict.app, conflict.heldBy]) {
        const text = app === conflict.app ? message : `${conflict.app} also claims ${conflict.host}${conflict.pathPrefix}; ${app} keeps it`;
        const reason = app === conflict.app ? 'HostPathClaimed' : 'HoldsContestedRoute';
        this.deps.store.updateApp(app, (s) => setCondition(s.conditions, { type: 'RouteConflict', status: 'True', reason, message: text }));
        this.deps.store.addEvent({ app, type: 'Warning', reason: 'RouteConflict', message: text });
      }
    }
    for (const app of this.lastConflicts.keys()) {
      if (now.has(app)) continue;
      if (this.deps.store.app(app)) this.deps.store.updateApp(app, (s) => removeCondition(s.conditions, 'RouteConflict'));
    }
    // Holders lose their condition once nobody contends any more.
    const holders = new Set(conflicts.map((c) => c.heldBy));
    for (const status of this.deps.store.apps()) {
      const condition = status.conditions.find((c) => c.type === 'RouteConflict');
      if (condition && !now.has(status.name) && !holders.has(status.name)) {
        this.deps.store.updateApp(status.name, (s) => removeCondition(s.conditions, 'RouteConflict'));
      }
    }
    this.lastConflicts = now;
  }

  private recordDegraded(result: ApplyResult): void {
    const now = new Map(result.degraded.map((d) => [d.app, d.message]));
    for (const { app, message, reason = 'NginxValidationFailed' } of result.degraded) {
      if (this.lastDegraded.get(app) === message) continue;
      this.deps.store.updateApp(app, (s) => {
        setCondition(s.conditions, { type: 'RouteDegraded', status: 'True', reason, message });
        if (s.phase === 'Running') s.phase = 'Degraded';
      });
      const why = reason === 'NginxValidationFailed' ? "nginx rejects this app's block" : "this app's route change cannot be written";
      this.deps.store.addEvent({ app, type: 'Warning', reason, message: `${why}; its last good route keeps serving: ${message}` });
    }
    for (const app of this.lastDegraded.keys()) {
      if (!now.has(app) && this.deps.store.app(app)) {
        this.deps.store.updateApp(app, (s) => removeCondition(s.conditions, 'RouteDegraded'));
      }
    }
    this.lastDegraded = now;
  }
}

function sameOwners(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameAddresses(a: Set<string> | undefined, b: Set<string> | undefined): boolean {
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  for (const key of a ?? []) if (!b?.has(key)) return false;
  return true;
}
