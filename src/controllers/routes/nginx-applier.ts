// The render -> validate -> swap -> reload pipeline shared by our own master and a system nginx,
// with failure narrowing: when the whole candidate is rejected, each app's change is tried alone on
// top of the last good config; the ones nginx accepts go out in one reload, the others are held
// back (their last good route keeps serving) and reported as degraded.
import type { Logger } from 'pino';
import { readFileIfExists, writeFileAtomic } from './conf-files.js';
import type { ApplyResult, DegradedRoute } from './load-balancer.js';
import type { AppRoute, RouteTable } from '../../core/routes.js';
import { stableJson } from '../../core/stable-json.js';

export interface NginxTestResult {
  ok: boolean;
  /** What nginx said, condensed to the failing lines. */
  message: string;
}

/** Where an apps conf goes: differs between our own master and a system nginx. */
export interface NginxConfigTarget {
  /** Renders the apps conf; throws (InvalidRouteError) for a route with an unsafe value. */
  render(table: RouteTable): { text: string; configId: string };
  /** Id of the config nginx serves now, undefined when unknown or unreachable. */
  servedConfigId(): Promise<string | undefined>;
  /** `nginx -t` of the full config with this apps conf in place. Leaves the live files alone. */
  test(appsConf: string): Promise<NginxTestResult>;
  /** Atomically puts this apps conf in place. */
  install(appsConf: string): Promise<void>;
  /** The apps conf on disk now (undefined when missing), to notice hand edits. */
  installed(): Promise<string | undefined>;
  /** Graceful reload; resolves once `configId` is served. */
  reload(configId: string): Promise<void>;
}

export interface NginxApplierOptions {
  target: NginxConfigTarget;
  logger: Logger;
  /** Where the last good route of each app survives a controller restart. */
  lastGoodFile?: string;
}

type Routes = Map<string, AppRoute>;

export class NginxApplier {
  private readonly target: NginxConfigTarget;
  private readonly logger: Logger;
  private readonly lastGoodFile: string | undefined;
  private lastGood: Routes | undefined;
  private lastGoodWritten: string | undefined;

  constructor(opts: NginxApplierOptions) {
    this.target = opts.target;
    this.logger = opts.logger;
    this.lastGoodFile = opts.lastGoodFile;
  }

  /** Not reentrant: callers serialize (RouteSync does). */
  async apply(table: RouteTable): Promise<ApplyResult> {
    const started = performance.now();
    const desired = byApp(table.routes);
    const served = await this.target.servedConfigId();
    if (served !== undefined && this.renderedId(desired) === served) {
      const rendered = this.target.render({ routes: [...desired.values()] });
      if ((await this.target.installed()) === rendered.text) {
        // Already live and untouched on disk: no test, no reload.
        await this.remember(desired);
        return { changed: false, reloaded: false, degraded: [], durationMs: performance.now() - started };
      }
      // Someone edited the file by hand (whether or not they reloaded): put ours back.
      this.logger.warn('nginx config on disk differs from the rendered one; restoring it');
      await this.target.install(rendered.text);
      await this.target.reload(rendered.configId);
      return { changed: true, reloaded: true, degraded: [], drift: true, durationMs: performance.now() - started };
    }

    let whole: Awaited<ReturnType<NginxApplier['tryConfig']>>;
    try {
      whole = await this.tryConfig(desired);
    } catch (err) {
      // The candidate could not even be written (a full disk): keep what is live.
      return this.holdChangesBack(desired, served, err, started);
    }
    if (whole.ok) {
      const reloaded = await this.goLive(whole.text, whole.configId, served);
      await this.remember(desired);
      return { changed: reloaded, reloaded, degraded: [], durationMs: performance.now() - started };
    }

    this.logger.warn({ err: whole.message }, 'nginx rejected the candidate config; narrowing to the failing apps');
    const { routes, degraded } = await this.narrow(desired, whole.message);
    const accepted = await this.tryConfig(routes);
    if (!accepted.ok) {
      // Even the last good routes fail now (e.g. a log dir vanished): change nothing, let the caller retry.
      throw new Error(`nginx rejects the last good config too: ${accepted.message}`);
    }
    const reloaded = await this.goLive(accepted.text, accepted.configId, served);
    await this.remember(routes);
    return { changed: reloaded, reloaded, degraded, durationMs: performance.now() - started };
  }

  /**
   * No config can be written now. Apps whose rendered block is the same as their last good one go
   * on as desired (in Lua mode a replica change is not in the config: it still goes out, by
   * membership); every other change is held back, and the live config stays as it is. When even
   * that would need a new config (an app removed), nothing can be done: the error is thrown.
   */
  private async holdChangesBack(desired: Routes, served: string | undefined, err: unknown, started: number): Promise<ApplyResult> {
    const lastGood = await this.loadLastGood();
    const kept: Routes = new Map();
    const degraded: DegradedRoute[] = [];
    const message = `the nginx config cannot be written (${err instanceof Error ? err.message : String(err)}); the live config stays`;
    for (const [app, route] of desired) {
      const good = lastGood.get(app);
      if (good && this.renderedId(byApp([good])) === this.renderedId(byApp([route]))) {
        kept.set(app, route);
        continue;
      }
      if (good) kept.set(app, good);
      degraded.push({ app, message, reason: 'NginxConfigWriteFailed' });
    }
    if (served === undefined || this.renderedId(kept) !== served) throw err;
    this.logger.warn({ err: String(err), heldBack: degraded.map((d) => d.app) }, 'nginx config cannot be written; route changes held back, the live config stays');
    this.lastGood = new Map(kept);
    return { changed: false, reloaded: false, degraded, retryLater: true, durationMs: performance.now() - started };
  }

  /**
   * Starts from the last good route of every desired app (apps gone from the table are dropped),
   * then adds each app's change one at a time, keeping those nginx accepts. Cost: one `nginx -t`
   * per changed app, only on the failure path.
   */
  private async narrow(desired: Routes, wholeMessage: string): Promise<{ routes: Routes; degraded: DegradedRoute[] }> {
    const lastGood = await this.loadLastGood();
    const current: Routes = new Map();
    for (const app of desired.keys()) {
      const good = lastGood.get(app);
      if (good) current.set(app, good);
    }
    const base = await this.tryConfig(current);
    const changedApps = [...desired.keys()].filter((app) => !sameRoute(desired.get(app), lastGood.get(app))).sort();
    if (!base.ok) {
      return { routes: current, degraded: changedApps.map((app) => ({ app, message: wholeMessage })) };
    }

    const degraded: DegradedRoute[] = [];
    for (const app of changedApps) {
      const trial = new Map(current);
      trial.set(app, desired.get(app) as AppRoute);
      const result = await this.tryConfig(trial);
      if (result.ok) {
        current.set(app, desired.get(app) as AppRoute);
      } else {
        degraded.push({ app, message: result.message });
        this.logger.warn({ app, err: result.message }, 'route held back: nginx rejects its change');
      }
    }
    return { routes: current, degraded };
  }

  /** The last routes nginx accepted (memory, else the last good file): to re-render them after a mode switch. */
  async lastGoodTable(): Promise<RouteTable> {
    return { routes: [...(await this.loadLastGood()).values()] };
  }

  private renderedId(routes: Routes): string | undefined {
    try {
      return this.target.render({ routes: [...routes.values()] }).configId;
    } catch {
      return undefined;
    }
  }

  private async tryConfig(routes: Routes): Promise<{ ok: true; text: string; configId: string } | { ok: false; message: string }> {
    let rendered: { text: string; configId: string };
    try {
      rendered = this.target.render({ routes: [...routes.values()] });
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    const test = await this.target.test(rendered.text);
    return test.ok ? { ok: true, ...rendered } : { ok: false, message: test.message };
  }

  /** Installs and reloads unless nginx already serves this config. Returns whether it reloaded. */
  private async goLive(text: string, configId: string, served: string | undefined): Promise<boolean> {
    if (served === configId) return false;
    await this.target.install(text);
    await this.target.reload(configId);
    this.logger.info({ configId, previous: served }, 'nginx reloaded');
    return true;
  }

  private async loadLastGood(): Promise<Routes> {
    if (this.lastGood) return this.lastGood;
    const saved = this.lastGoodFile ? await readFileIfExists(this.lastGoodFile) : undefined;
    try {
      this.lastGood = byApp(saved ? (JSON.parse(saved) as RouteTable).routes : []);
    } catch {
      this.lastGood = new Map();
    }
    return this.lastGood;
  }

  /**
   * Keeps what nginx accepted, in memory and in the last good file. The file only matters after a
   * restart of the controller: a write that fails (a full disk) is logged and tried again at the
   * next apply, and never fails an apply whose config is already live.
   */
  private async remember(routes: Routes): Promise<void> {
    this.lastGood = new Map(routes);
    if (!this.lastGoodFile) return;
    const text = JSON.stringify({ routes: [...routes.values()] }, null, 2);
    if (text === this.lastGoodWritten) return;
    try {
      await writeFileAtomic(this.lastGoodFile, text);
      this.lastGoodWritten = text;
    } catch (err) {
      this.logger.warn({ err: String(err), file: this.lastGoodFile }, 'last good routes not written; kept in memory, written at the next apply');
    }
  }
}

function byApp(routes: AppRoute[]): Routes {
  return new Map(routes.map((r) => [r.app, r]));
}

function sameRoute(a: AppRoute | undefined, b: AppRoute | undefined): boolean {
  return stableJson(a) === stableJson(b);
}
