// A system nginx (e.g. Debian's, with conf.d/*.conf included at http level) serving our routes
// from one file, `autoserve.conf`, in its conf dir. We validate with `nginx -t` of the whole
// system config and reload with `nginx -s reload`; the master itself is not ours to start or stop.
//
// nginx cannot test a file outside its include glob, so a candidate is tested in place and the
// previous file restored right after. A reload by someone else in that window of milliseconds
// would read an untested file; acceptable for an opt-in mode, and nginx keeps its old config if
// that file is broken.
import type { HoldSupport } from '../../core/activity.js';
import { mkdir, rm } from 'node:fs/promises';
import { NGINX_LOGS_DIR_MODE } from './nginx-paths.js';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AppsViewOptions, ListenAddress } from '../../render/nginx-view-model.js';
import { renderAppsConf } from '../../render/render-nginx-config.js';
import { readFileIfExists, writeFileAtomic } from './conf-files.js';
import { DEFAULT_RELOAD_CONFIRM_TIMEOUT_MS, fetchServedConfigId, waitForConfigId } from './config-id-probe.js';
import type { ApplyResult, LoadBalancer } from './load-balancer.js';
import { NginxApplier, type NginxConfigTarget, type NginxTestResult } from './nginx-applier.js';
import { nginxErrorSummary, runNginx, runNginxStdout } from './nginx-cli.js';
import { acceptingWorkerPids, waitUntilNotAccepting } from './nginx-workers.js';
import type { Address } from '../../core/replica.js';
import type { RouteTable } from '../../core/routes.js';

export const SYSTEM_CONF_FILE_NAME = 'autoserve.conf';

export interface SystemNginxOptions {
  /** A directory the system nginx includes at http level, e.g. /etc/nginx/conf.d. */
  confDir: string;
  listen: ListenAddress;
  logsDir: string;
  logger: Logger;
  nginxBin?: string;
  /** Main config of the system nginx; default: its compiled-in path. */
  mainConf?: string;
  /** Where the last good routes are kept across restarts (not the conf dir: nginx would not care, admins would). */
  stateDir?: string;
  /** Pid file of the system master (default /run/nginx.pid): lets a reload wait for old workers to stop accepting. */
  pidFile?: string;
  reloadConfirmTimeoutMs?: number;
  /** Where the controller's checks are served; default: systemControlListener(listen). */
  control?: Address;
}

export const DEFAULT_SYSTEM_PID_FILE = '/run/nginx.pid';

/**
 * The system nginx's control listener: a loopback address of its own on the public port, which no
 * app's server block listens on. Not a unix socket: a system master that dies by SIGKILL would leave
 * the socket file behind, and nginx refuses to start while it is there; we do not run its restarts.
 */
export function systemControlListener(listen: ListenAddress): Address {
  return { host: listen.host === '127.0.0.2' ? '127.0.0.3' : '127.0.0.2', port: listen.port };
}

export class SystemNginx implements LoadBalancer {
  readonly confPath: string;
  private readonly bin: string;
  private readonly opts: SystemNginxOptions;
  private readonly applier: NginxApplier;
  readonly control: Address;

  constructor(opts: SystemNginxOptions) {
    this.opts = opts;
    this.control = opts.control ?? systemControlListener(opts.listen);
    this.confPath = path.join(path.resolve(opts.confDir), SYSTEM_CONF_FILE_NAME);
    this.bin = opts.nginxBin ?? 'nginx';
    this.applier = new NginxApplier({
      target: this.configTarget(),
      logger: opts.logger.child({ component: 'nginx', mode: 'system' }),
      ...(opts.stateDir ? { lastGoodFile: path.join(opts.stateDir, 'autoserve-routes.json') } : {}),
    });
  }

  async apply(table: RouteTable): Promise<ApplyResult> {
    await mkdir(this.opts.logsDir, { recursive: true, mode: NGINX_LOGS_DIR_MODE });
    this.serverNamesHash ??= await this.findServerNamesHash();
    return this.applier.apply(table);
  }

  private serverNamesHash: AppsViewOptions['serverNamesHash'];

  /**
   * Whether the system config sets server_names_hash_bucket_size outside our file (read once from
   * `nginx -T`). If not, our file sets one that fits every valid host; if so, setting it again would
   * be a "duplicate directive" error, so we keep to its size and refuse longer hosts per app.
   */
  private async findServerNamesHash(): Promise<NonNullable<AppsViewOptions['serverNamesHash']>> {
    const dump = await runNginxStdout(this.bin, ['-T', ...this.confArgs()]);
    const bucketSize = dump === undefined ? undefined : bucketSizeSetOutside(dump, this.confPath);
    return bucketSize === undefined ? { own: true } : { bucketSize };
  }

  /** `nginx -t` of the whole system config as it is on disk now. */
  async test(): Promise<NginxTestResult> {
    const result = await runNginx(this.bin, ['-t', '-e', 'stderr', ...this.confArgs()]);
    return { ok: result.ok, message: result.ok ? '' : nginxErrorSummary(result.stderr) };
  }

  async reload(): Promise<void> {
    const result = await runNginx(this.bin, ['-s', 'reload', '-e', 'stderr', ...this.confArgs()]);
    if (!result.ok) throw new Error(`nginx -s reload failed: ${nginxErrorSummary(result.stderr)}`);
  }

  /** `nginx -s reopen`: the system nginx reopens its logs (ours among them). */
  async reopenLogs(): Promise<void> {
    const result = await runNginx(this.bin, ['-s', 'reopen', '-e', 'stderr', ...this.confArgs()]);
    if (!result.ok) throw new Error(`nginx -s reopen failed: ${nginxErrorSummary(result.stderr)}`);
  }

  /** The system nginx serves our config (our control server answers). */
  async isAlive(): Promise<boolean> {
    return (await fetchServedConfigId(this.control)) !== undefined;
  }

  /** A system nginx's config is the operator's: we never load the Lua module into it. */
  holdSupport(): HoldSupport {
    return { kind: 'no', reason: 'a system nginx (--nginx-conf-dir) runs without our Lua balancer, which holding a request needs' };
  }

  /** Removes our routes from the system nginx (the master keeps running: it is not ours). */
  async stop(): Promise<void> {
    if ((await readFileIfExists(this.confPath)) === undefined) return;
    await rm(this.confPath, { force: true });
    await this.reload();
  }

  private async masterPid(): Promise<number | undefined> {
    const text = await readFileIfExists(this.opts.pidFile ?? DEFAULT_SYSTEM_PID_FILE).catch(() => undefined);
    const pid = text === undefined ? NaN : Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  private confArgs(): string[] {
    return this.opts.mainConf ? ['-c', this.opts.mainConf] : [];
  }

  private configTarget(): NginxConfigTarget {
    return {
      render: (table) => renderAppsConf(table, {
        listen: this.opts.listen,
        logsDir: this.opts.logsDir,
        control: this.control,
        ...(this.serverNamesHash ? { serverNamesHash: this.serverNamesHash } : {}),
      }),
      servedConfigId: () => fetchServedConfigId(this.control),
      test: async (appsConf) => {
        const previous = await readFileIfExists(this.confPath);
        try {
          await writeFileAtomic(this.confPath, appsConf);
          return await this.test();
        } finally {
          if (previous === undefined) await rm(this.confPath, { force: true });
          else await writeFileAtomic(this.confPath, previous);
        }
      },
      install: (appsConf) => writeFileAtomic(this.confPath, appsConf),
      installed: () => readFileIfExists(this.confPath),
      reload: async (configId) => {
        const timeoutMs = this.opts.reloadConfirmTimeoutMs ?? DEFAULT_RELOAD_CONFIRM_TIMEOUT_MS;
        const masterPid = await this.masterPid();
        const oldWorkers = masterPid === undefined ? [] : await acceptingWorkerPids(masterPid);
        await this.reload();
        await waitForConfigId(this.control, configId, timeoutMs);
        if (masterPid !== undefined) await waitUntilNotAccepting(masterPid, oldWorkers, timeoutMs);
      },
    };
  }
}

/** The server_names_hash_bucket_size that `nginx -T` output sets in any file but `ownFile`. */
export function bucketSizeSetOutside(dump: string, ownFile: string): number | undefined {
  // -T prints each file after a "# configuration file PATH:" line.
  const sections = dump.split(/^# configuration file (.+):$/m);
  for (let i = 1; i + 1 < sections.length; i += 2) {
    if (path.resolve(sections[i]!) === ownFile) continue;
    const match = /^[ \t]*server_names_hash_bucket_size[ \t]+(\d+)[ \t]*;/m.exec(sections[i + 1]!);
    if (match) return Number(match[1]);
  }
  return undefined;
}
