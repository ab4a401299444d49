// The controller's own nginx master: started daemonized in a prefix of ours (so it outlives the
// controller and touches nothing of the system nginx), adopted by pid file after a controller
// restart, reloaded by SIGHUP, stopped by SIGQUIT. Implements LoadBalancer through NginxApplier,
// and, when the Lua module works ("lua membership" mode), MembershipApplier in front of it:
// replica membership by POST to a Lua balancer, routes by reload.
import { randomUUID } from 'node:crypto';
import { access, chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DEFAULT_NGINX_MODULES_DIR, LUA_MODULE_FILES, workerUserFor } from '../../render/nginx-main-view-model.js';
import type { ListenAddress } from '../../render/nginx-view-model.js';
import { LUA_BALANCER_FILE, luaBalancerSource, renderAppsConf, renderMainConf } from '../../render/render-nginx-config.js';
import { readFileIfExists, writeFileAtomic } from './conf-files.js';
import { DEFAULT_RELOAD_CONFIRM_TIMEOUT_MS, fetchServedConfigId, waitForConfigId } from './config-id-probe.js';
import type { ApplyResult, LoadBalancer } from './load-balancer.js';
import { ActivityEndpoint } from './activity-endpoint.js';
import { MembershipApplier } from './membership-applier.js';
import { MEMBERSHIP_FILE, MembershipEndpoint } from './membership-endpoint.js';
import { NginxApplier, type NginxConfigTarget, type NginxTestResult } from './nginx-applier.js';
import { nginxErrorSummary, runNginx } from './nginx-cli.js';
import { acceptingWorkerPids, holdsFileUnder, nginxProcesses, processInfo, waitUntilNotAccepting } from './nginx-workers.js';
import type { HoldSupport } from '../../core/activity.js';
import { NGINX_LOGS_DIR_MODE } from './nginx-paths.js';
import type { ControlListener, RouteTable } from '../../core/routes.js';

export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * Our nginx always shares its host with the replicas it proxies to, so it leaves them a core: one
 * worker per core but one (at least one). On 2 cores, one worker served 1.16x and 1.47x the
 * requests of two in two runs of the data-path bench, at 38-45 instead of 42-58 µs of nginx CPU a
 * request: two workers and the replicas took turns on the same cores (docs/benchmarks.md).
 */
export function defaultWorkerProcesses(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}
/** How long orphaned workers get to stop listening after SIGQUIT before a new master binds anyway. */
const ORPHAN_UNLISTEN_WAIT_MS = 2_000;
/** How long orphaned workers may finish their requests before SIGKILL. */
export const ORPHAN_GRACE_MS = 5_000;
/** How long workers get to reopen their logs after SIGUSR1. */
const REOPEN_CONFIRM_MS = 1_000;

export interface NginxProcessOptions {
  prefixDir: string;
  listen: ListenAddress;
  logger: Logger;
  nginxBin?: string;
  /** Default <prefixDir>/logs. */
  logsDir?: string;
  /** Default defaultWorkerProcesses(): one core left to the replicas. */
  workerProcesses?: number | 'auto';
  /** Default: nobody/nogroup when running as root, none otherwise (see workerUserFor). */
  workerUser?: { user: string; group: string } | null;
  reloadConfirmTimeoutMs?: number;
  /**
   * 'auto' (default): replica membership through the Lua balancer when the Lua module works here,
   * else by reload. 'reload': always re-render and reload (what 'auto' falls back to).
   */
  membership?: 'auto' | 'reload';
  /** Where ndk_http_module.so and ngx_http_lua_module.so are looked for. Default /usr/lib/nginx/modules. */
  nginxModulesDir?: string;
}

export type MembershipMode = 'lua' | 'reload';

/**
 * The control server's unix socket (config id, stub_status, Lua membership): no app host reaches a
 * socket. nginx makes every unix socket it listens on 0666, so the socket alone protects nothing:
 * it lives in a 0700 directory, and only root can reach it.
 */
export const CONTROL_DIR = 'control';
export const CONTROL_SOCKET_FILE = 'control.sock';
const MAX_UNIX_SOCKET_PATH = 107;

export class NginxProcess implements LoadBalancer {
  readonly prefixDir: string;
  /** The control server's unix socket (root only). */
  readonly controlSocket: string;
  private adoptedPid: number | undefined;
  readonly confDir: string;
  readonly mainConfPath: string;
  readonly appsConfPath: string;
  readonly pidFile: string;
  readonly logsDir: string;
  private readonly bin: string;
  private readonly listen: ListenAddress;
  private readonly logger: Logger;
  private readonly opts: NginxProcessOptions;
  private readonly applier: NginxApplier;
  private readonly membershipApplier: MembershipApplier;
  private readonly activity: ActivityEndpoint;
  /** Decided once, at the first ensureRunning(). */
  private membershipMode: MembershipMode | undefined;
  private reopenFallbackLogged = false;

  constructor(opts: NginxProcessOptions) {
    this.opts = opts;
    this.prefixDir = path.resolve(opts.prefixDir);
    this.controlSocket = path.join(this.prefixDir, CONTROL_DIR, CONTROL_SOCKET_FILE);
    this.confDir = path.join(this.prefixDir, 'conf');
    this.mainConfPath = path.join(this.confDir, 'nginx.conf');
    this.appsConfPath = path.join(this.confDir, 'apps.conf');
    this.pidFile = path.join(this.prefixDir, 'nginx.pid');
    this.logsDir = path.resolve(opts.logsDir ?? path.join(this.prefixDir, 'logs'));
    this.bin = opts.nginxBin ?? 'nginx';
    this.listen = opts.listen;
    this.logger = opts.logger.child({ component: 'nginx', prefix: this.prefixDir });
    this.applier = new NginxApplier({
      target: this.configTarget(),
      logger: this.logger,
      lastGoodFile: path.join(this.confDir, 'autoserve-routes.json'),
    });
    this.membershipApplier = new MembershipApplier({
      routes: this.applier,
      channel: new MembershipEndpoint(this.controlSocket, path.join(this.prefixDir, MEMBERSHIP_FILE), undefined, (err) =>
        this.logger.warn({ err: String(err) }, 'membership seed file not written; nginx got the membership anyway'),
      ),
      logger: this.logger,
    });
    this.activity = new ActivityEndpoint(this.controlSocket);
  }

  /** Held requests need the Lua balancer; reload mode answers an app without replicas 503. */
  holdSupport(): HoldSupport {
    if (this.membershipMode === undefined) return { kind: 'unknown' };
    if (this.membershipMode === 'lua') return { kind: 'yes', channel: this.activity };
    return { kind: 'no', reason: 'nginx runs without the Lua module (reload mode), which cannot hold a request' };
  }

  /** 'lua' or 'reload' once ensureRunning() has decided; undefined before. */
  get mode(): MembershipMode | undefined {
    return this.membershipMode;
  }

  private get control(): ControlListener {
    return { socketPath: this.controlSocket };
  }

  private get luaModulesDir(): string {
    return path.resolve(this.opts.nginxModulesDir ?? DEFAULT_NGINX_MODULES_DIR);
  }

  /** Starts the master unless ours already runs (then adopts it). Also brings the main conf up to date. */
  async ensureRunning(): Promise<{ pid: number; started: boolean }> {
    await this.prepareDirs();
    const luaChanged = await this.writeLuaBalancer();
    if (this.membershipMode === undefined) this.membershipMode = await this.chooseMembershipMode();
    const mainConf = this.renderMain(this.appsConfPath);
    const mainChanged = (await readFileIfExists(this.mainConfPath)) !== mainConf;
    if ((await readFileIfExists(this.appsConfPath)) === undefined) {
      await writeFileAtomic(this.appsConfPath, this.renderApps({ routes: [] }).text);
    }
    if (mainChanged) {
      let test = await this.testMainConf(mainConf);
      if (!test.ok) {
        // The apps conf on disk may be of the other membership mode (balancer_by_lua without the
        // module, say): re-render the last good routes for this one.
        const apps = this.renderApps(await this.applier.lastGoodTable());
        test = await this.configTarget().test(apps.text);
        if (!test.ok) throw new Error(`nginx rejects the main config: ${test.message}`);
        await writeFileAtomic(this.appsConfPath, apps.text);
      }
      await writeFileAtomic(this.mainConfPath, mainConf);
    }

    const running = await this.pid();
    if (running !== undefined) {
      // A new Lua module is loaded by the next reload (init_by_lua re-seeds the dict from the file).
      if (mainChanged || (luaChanged && this.membershipMode === 'lua')) process.kill(running, 'SIGHUP');
      // ensureRunning runs before every apply: say it once per master, not once per apply.
      if (this.adoptedPid !== running) this.logger.info({ pid: running }, 'adopted running nginx master');
      this.adoptedPid = running;
      return { pid: running, started: false };
    }

    const test = await this.test(this.mainConfPath);
    if (!test.ok) {
      // The apps conf on disk no longer passes (e.g. a path vanished): start with no routes; apply() restores them.
      this.logger.warn({ err: test.message }, 'apps conf on disk fails nginx -t; starting with an empty one');
      await writeFileAtomic(this.appsConfPath, this.renderApps({ routes: [] }).text);
    }
    // Orphans serve until the last moment: from their SIGQUIT to the new master's bind, nothing listens.
    await this.quitOrphanedWorkers();
    // A master killed with SIGKILL leaves its socket file behind, and nginx will not bind over it.
    // No master of ours runs, and the directory is ours: the file is stale.
    await rm(this.controlSocket, { force: true });
    const started = await runNginx(this.bin, this.baseArgs());
    if (!started.ok) throw new Error(`nginx failed to start: ${nginxErrorSummary(started.stderr)}`);
    const pid = await this.waitForPid();
    this.logger.info({ pid }, 'started nginx master');
    this.adoptedPid = pid;
    return { pid, started: true };
  }

  async apply(table: RouteTable): Promise<ApplyResult> {
    await this.ensureRunning();
    return this.membershipMode === 'lua' ? this.membershipApplier.apply(table) : this.applier.apply(table);
  }

  /** `nginx -t` of a main config file (absolute, or relative to the prefix). */
  async test(confPath: string): Promise<NginxTestResult> {
    const result = await runNginx(this.bin, ['-t', '-p', `${this.prefixDir}/`, '-c', confPath, '-e', 'stderr']);
    return { ok: result.ok, message: result.ok ? '' : nginxErrorSummary(result.stderr) };
  }

  /** Graceful reload of our running master (SIGHUP, same as `nginx -s reload`). */
  async reload(): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) throw new Error(`no nginx master of ours runs in ${this.prefixDir}`);
    process.kill(pid, 'SIGHUP');
  }

  /**
   * Reloads and resolves once `configId` is live: served by the new workers, and no old worker
   * accepts connections any more (so a replica removed from the config gets no new request).
   */
  private async reloadAndConfirm(configId: string): Promise<void> {
    const timeoutMs = this.opts.reloadConfirmTimeoutMs ?? DEFAULT_RELOAD_CONFIRM_TIMEOUT_MS;
    const pid = await this.pid();
    if (pid === undefined) throw new Error(`no nginx master of ours runs in ${this.prefixDir}`);
    const oldWorkers = await acceptingWorkerPids(pid);
    process.kill(pid, 'SIGHUP');
    await waitForConfigId(this.control, configId, timeoutMs);
    await waitUntilNotAccepting(pid, oldWorkers, timeoutMs);
  }

  async isAlive(): Promise<boolean> {
    return (await this.pid()) !== undefined;
  }

  /**
   * SIGUSR1 to our master (same as `nginx -s reopen`): it reopens the logs and has its workers do
   * so. Workers reopen as the worker user (nobody when we are root), which cannot when a parent of
   * the logs dir is closed to others (a state dir under /root, a 0700 temp dir): they would write on
   * into the renamed files. Checked, and then a graceful reload instead, whose new workers inherit
   * the files the master opened.
   */
  async reopenLogs(): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) return;
    signal(pid, 'SIGUSR1');
    const deadline = Date.now() + REOPEN_CONFIRM_MS;
    for (;;) {
      const stale = await this.workersWritingRotatedLogs(pid);
      if (stale.length === 0) return;
      if (Date.now() >= deadline) break;
      await sleep(20);
    }
    if (!this.reopenFallbackLogged) {
      this.logger.warn({ logsDir: this.logsDir }, 'nginx workers cannot reopen their logs (a parent of the logs dir is closed to the worker user); rotating by graceful reload instead');
      this.reopenFallbackLogged = true;
    }
    signal(pid, 'SIGHUP');
  }

  /** Workers of the master that still hold a rotated log (`*.log.1`) of ours open. */
  private async workersWritingRotatedLogs(masterPid: number): Promise<number[]> {
    const stale: number[] = [];
    for (const worker of await acceptingWorkerPids(masterPid)) {
      if (await holdsFileUnder(worker, [this.logsDir], (target) => target.endsWith('.log.1'))) stale.push(worker);
    }
    return stale;
  }

  /** Graceful quit (SIGQUIT, same as `nginx -s quit`); resolves when the master is gone. */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) return;
    process.kill(pid, 'SIGQUIT');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!(await this.isOurMaster(pid))) return;
      await sleep(50);
    }
    throw new Error(`nginx master ${pid} did not quit within ${timeoutMs} ms`);
  }

  /** Pid of our master from the pid file, only if that process runs and is our nginx master. */
  async pid(): Promise<number | undefined> {
    const text = await readFileIfExists(this.pidFile);
    const pid = text === undefined ? NaN : Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return (await this.isOurMaster(pid)) ? pid : undefined;
  }

  // A stale pid file may name a recycled pid: only a live nginx master started with our main conf
  // counts. A zombie has an empty cmdline and so does not count either.
  private async isOurMaster(pid: number): Promise<boolean> {
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      return cmdline.includes('nginx: master process') && cmdline.includes(this.mainConfPath);
    } catch {
      return false;
    }
  }

  /**
   * Workers of ours whose master is gone: a kill -9 of the master orphans them, and they keep
   * serving the old config and hold the listening socket, so no new master could bind. Ours means
   * an nginx process (not a master) holding files under our prefix or logs dir; another
   * instance's or the system's nginx never does, and is never signalled.
   */
  async orphanedWorkers(): Promise<number[]> {
    const master = await this.pid();
    const orphans: number[] = [];
    for (const p of await nginxProcesses()) {
      if (p.title.startsWith('nginx: master process') || (master !== undefined && p.ppid === master)) continue;
      if (await this.holdsOurFiles(p.pid)) orphans.push(p.pid);
    }
    return orphans;
  }

  /**
   * SIGQUIT to our orphaned workers (they close their listening sockets at once and finish the
   * requests they have), a short wait until they stop listening, and SIGKILL after ORPHAN_GRACE_MS
   * to any still there (checked again to be ours: a pid may have been reused).
   */
  private async quitOrphanedWorkers(): Promise<void> {
    const orphans = await this.orphanedWorkers();
    if (orphans.length === 0) return;
    this.logger.warn({ pids: orphans }, 'nginx workers of ours outlived their master; quitting them so a new master can listen');
    // Who they are, for the SIGKILL after the grace: a pid reused meanwhile has another start time.
    const started = new Map((await Promise.all(orphans.map((pid) => processInfo(pid)))).flatMap((p) => (p ? [[p.pid, p.startTicks] as const] : [])));
    for (const pid of orphans) signal(pid, 'SIGQUIT');
    const deadline = Date.now() + ORPHAN_UNLISTEN_WAIT_MS;
    while (Date.now() < deadline) {
      const titles = await Promise.all(orphans.map((pid) => processInfo(pid)));
      if (titles.every((p) => p === undefined || p.title !== 'nginx: worker process')) break;
      await sleep(20);
    }
    const kill = setTimeout(() => {
      void (async () => {
        for (const pid of orphans) {
          const now = await processInfo(pid);
          if (now && now.startTicks === started.get(pid) && (await this.holdsOurFiles(pid))) signal(pid, 'SIGKILL');
        }
      })();
    }, ORPHAN_GRACE_MS);
    kill.unref();
  }

  private holdsOurFiles(pid: number): Promise<boolean> {
    return holdsFileUnder(pid, [this.prefixDir, this.logsDir]);
  }

  private async waitForPid(timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const pid = await this.pid();
      if (pid !== undefined) return pid;
      await sleep(20);
    }
    throw new Error(`nginx started but no master appeared in ${this.pidFile}`);
  }

  private baseArgs(): string[] {
    return ['-p', `${this.prefixDir}/`, '-c', this.mainConfPath, '-e', 'stderr'];
  }

  // Workers (nobody when we are root) must traverse the prefix to reach temp/, which the master
  // creates and chowns to them; logs are opened by the master, so they need no access at all, and
  // nothing else of the workers' group may read them (request URIs, query strings included).
  private async prepareDirs(): Promise<void> {
    for (const dir of [this.prefixDir, this.confDir, this.logsDir, path.join(this.prefixDir, 'temp')]) {
      await mkdir(dir, { recursive: true });
    }
    await chmod(this.prefixDir, 0o755);
    await chmod(this.logsDir, NGINX_LOGS_DIR_MODE);
    // A unix socket path is limited to 107 bytes (sockaddr_un): a deep state dir cannot host one.
    if (Buffer.byteLength(this.controlSocket) > MAX_UNIX_SOCKET_PATH) {
      throw new Error(`nginx's control socket ${this.controlSocket} is longer than ${MAX_UNIX_SOCKET_PATH} bytes: use a shorter --state path`);
    }
    await mkdir(path.join(this.prefixDir, CONTROL_DIR), { recursive: true, mode: 0o700 });
    await chmod(path.join(this.prefixDir, CONTROL_DIR), 0o700);
    await chmod(path.join(this.prefixDir, 'temp'), 0o755);
  }

  private renderApps(table: RouteTable): { text: string; configId: string } {
    return renderAppsConf(table, { listen: this.listen, logsDir: this.logsDir, luaBalancer: this.membershipMode === 'lua', control: this.control });
  }

  /** Writes <prefix>/lua/autoserve_balancer.lua when it differs; returns whether it did. */
  private async writeLuaBalancer(): Promise<boolean> {
    const file = path.join(this.prefixDir, 'lua', LUA_BALANCER_FILE);
    const source = luaBalancerSource();
    if ((await readFileIfExists(file)) === source) return false;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, source);
    return true;
  }

  /**
   * Lua membership needs the ndk + lua modules and lua-resty-core (ngx.balancer). The files are
   * checked first, then one `nginx -t` of our main conf with the Lua parts and an empty apps conf
   * proves the modules load, resty.core and our balancer module are found. Logged once.
   */
  private async chooseMembershipMode(): Promise<MembershipMode> {
    if (this.opts.membership === 'reload') {
      this.logger.info({ membership: 'reload' }, 'nginx membership by reload (configured)');
      return 'reload';
    }
    const reason = await this.luaUnavailableReason();
    if (reason === undefined) {
      this.logger.info({ membership: 'lua', modulesDir: this.luaModulesDir }, 'nginx membership through the Lua balancer (no reload for replica changes)');
      return 'lua';
    }
    this.logger.warn({ membership: 'reload', reason }, 'nginx Lua module unavailable; replica membership changes reload nginx');
    return 'reload';
  }

  private async luaUnavailableReason(): Promise<string | undefined> {
    for (const file of Object.values(LUA_MODULE_FILES)) {
      const full = path.join(this.luaModulesDir, file);
      try {
        await access(full);
      } catch {
        return `${full} not found`;
      }
    }
    const emptyApps = path.join(this.confDir, `apps.conf.lua-probe-${randomUUID().slice(0, 8)}`);
    try {
      await writeFile(emptyApps, '# AutoServe Lua probe: no routes\n');
      const test = await this.testMainConf(this.renderMain(emptyApps, 'lua'));
      return test.ok ? undefined : test.message;
    } finally {
      await rm(emptyApps, { force: true });
    }
  }

  private renderMain(appsConfPath: string, mode = this.membershipMode): string {
    const workerUser = this.opts.workerUser === undefined ? workerUserFor(process.getuid?.()) : this.opts.workerUser ?? undefined;
    return renderMainConf({
      prefixDir: this.prefixDir,
      logsDir: this.logsDir,
      pidFile: this.pidFile,
      appsConfPath,
      workerProcesses: this.opts.workerProcesses ?? defaultWorkerProcesses(),
      ...(workerUser ? { workerUser } : {}),
      ...(mode === 'lua' ? { luaModulesDir: this.luaModulesDir } : {}),
    });
  }

  /** Tests a main conf text via a candidate file beside the live one. */
  private async testMainConf(mainConf: string): Promise<NginxTestResult> {
    const candidate = path.join(this.confDir, `nginx.conf.candidate-${randomUUID().slice(0, 8)}`);
    try {
      await writeFile(candidate, mainConf);
      return await this.test(candidate);
    } finally {
      await rm(candidate, { force: true });
    }
  }

  private configTarget(): NginxConfigTarget {
    return {
      render: (table) => this.renderApps(table),
      servedConfigId: () => fetchServedConfigId(this.control),
      // The candidate is tested as a full config: a candidate main conf including the candidate apps conf.
      test: async (appsConf) => {
        const candidateApps = path.join(this.confDir, `apps.conf.candidate-${randomUUID().slice(0, 8)}`);
        try {
          await writeFile(candidateApps, appsConf);
          return await this.testMainConf(this.renderMain(candidateApps));
        } finally {
          await rm(candidateApps, { force: true });
        }
      },
      install: (appsConf) => writeFileAtomic(this.appsConfPath, appsConf),
      installed: () => readFileIfExists(this.appsConfPath),
      reload: (configId) => this.reloadAndConfirm(configId),
    };
  }
}

/** Sends a signal; a process that is already gone is not an error. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
