// Keeps every log of the state dir under one cap (plan-log-rotation.ts decides): looks at the log
// files every few seconds, renames the ones due to `<name>.1`, has their writer reopen (nginx: USR1
// to our master; our own log: its stream reopens the path), and deletes rotated copies over the cap.
// Readers of the logs follow the renames (observe/log-tailer.ts).
//
// A look stats only the files written since the last one (a watch on their directories says which;
// idle logs cost nothing), and every file once a minute, or at every look if a watch fails.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { planLogRotation, rotatedPath, type LogFile } from './plan-log-rotation.js';

export const DEFAULT_LOG_CHECK_MS = 2_000;
/** Every file is looked at this often whatever the watches say (a missed event costs at most this). */
export const LOG_SWEEP_MS = 60_000;

/** Logs written by one writer, and how to make it reopen them after a rename. */
export interface LogGroup {
  name: string;
  /** Every `*.log` in this directory belongs to the group... */
  dir?: string;
  /** ...or these files. */
  files?: string[];
  reopen: () => Promise<void> | void;
}

export interface LogRotatorOptions {
  groups: LogGroup[];
  capBytes: number;
  logger: Logger;
  intervalMs?: number;
}

export class LogRotator {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private watchers: FSWatcher[] = [];
  /** What the last looks found, by path; only `written` paths are looked at again between sweeps. */
  private readonly known = new Map<string, { file: LogFile; group: LogGroup }>();
  private readonly written = new Set<string>();
  /** The next look stats every file (start, a watch event without a name, a failed watch, a rotation). */
  private sweepDue = true;
  private lastSweepMs = 0;
  private watchesWork = true;

  constructor(private readonly opts: LogRotatorOptions) {}

  start(): void {
    this.watchDirectories();
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? DEFAULT_LOG_CHECK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.checking;
  }

  /** One look (never two at once); failures are logged, never thrown. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce()
      .catch((err: unknown) => this.opts.logger.warn({ err: errorMessage(err) }, 'log rotation failed; trying again at the next look'))
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** One watch per directory that holds logs; a path written there is looked at at the next check. */
  private watchDirectories(): void {
    const dirs = new Set(this.opts.groups.flatMap((g) => (g.dir ? [g.dir] : (g.files ?? []).map((f) => path.dirname(f)))));
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null) this.sweepDue = true;
          else this.written.add(path.join(dir, name.toString()));
        });
        watcher.on('error', () => this.stopWatching());
        this.watchers.push(watcher);
      } catch {
        this.stopWatching();
        return;
      }
    }
  }

  /** A watch failed: every look is a sweep from now on, as before there were watches. */
  private stopWatching(): void {
    this.watchesWork = false;
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private async checkOnce(): Promise<void> {
    const now = Date.now();
    if (this.sweepDue || !this.watchesWork || now - this.lastSweepMs >= LOG_SWEEP_MS) {
      await this.sweep(now);
    } else {
      const written = [...this.written];
      this.written.clear();
      for (const file of written) {
        const entry = this.known.get(file);
        if (entry) await this.look(file, entry.group, entry.file.rotated);
        else if (file.endsWith('.log') || file.endsWith('.log.1')) this.sweepDue = true; // a new log: its group is found at the sweep
      }
    }
    const actions = planLogRotation([...this.known.values()].map((e) => e.file), this.opts.capBytes);
    if (actions.length === 0) return;
    this.sweepDue = true; // what was renamed and deleted is looked at again next time
    const reopen = new Set<LogGroup>();
    try {
      for (const action of actions) {
        if (action.kind === 'rotate') {
          await rename(action.path, action.to);
          reopen.add(this.known.get(action.path)!.group);
        } else {
          await rm(action.path, { force: true });
        }
      }
    } finally {
      // A failure part way must not leave a writer in a file already renamed away (uncapped, unread).
      for (const group of reopen) await group.reopen();
    }
    this.opts.logger.info(
      { rotated: actions.filter((a) => a.kind === 'rotate').map((a) => a.path), deleted: actions.filter((a) => a.kind === 'delete').map((a) => a.path) },
      'logs rotated',
    );
  }

  /** Every live log of every group and its rotated copy. */
  private async sweep(now: number): Promise<void> {
    this.sweepDue = false;
    this.lastSweepMs = now;
    this.written.clear();
    this.known.clear();
    for (const group of this.opts.groups) {
      for (const live of await this.liveFiles(group)) {
        for (const [file, rotated] of [[live, false], [rotatedPath(live), true]] as const) await this.look(file, group, rotated);
      }
    }
  }

  private async look(file: string, group: LogGroup, rotated: boolean): Promise<void> {
    const st = await stat(file).catch(() => undefined);
    if (st) this.known.set(file, { file: { path: file, bytes: st.size, rotated, mtimeMs: st.mtimeMs }, group });
    else this.known.delete(file);
  }

  private async liveFiles(group: LogGroup): Promise<string[]> {
    if (!group.dir) return group.files ?? [];
    const names = await readdir(group.dir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.log')).map((n) => path.join(group.dir!, n));
  }
}
