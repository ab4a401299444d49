// Keeps every log of the state dir under one cap (plan-log-rotation.ts decides): looks at the log
// files every few seconds, renames the ones due to `<name>.1`, has their writer reopen (nginx: USR1
// to our master; our own log: its stream reopens the path), and deletes rotated copies over the cap.
// Readers of the logs follow the renames (observe/log-tailer.ts).
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { planLogRotation, rotatedPath, type LogFile } from './plan-log-rotation.js';

export const DEFAULT_LOG_CHECK_MS = 2_000;

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

  constructor(private readonly opts: LogRotatorOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? DEFAULT_LOG_CHECK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking;
  }

  /** One look (never two at once); failures are logged, never thrown. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce()
      .catch((err: unknown) => this.opts.logger.warn({ err: errorMessage(err) }, 'log rotation failed; trying again at the next look'))
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const owners = new Map<string, LogGroup>();
    const files: LogFile[] = [];
    for (const group of this.opts.groups) {
      for (const live of await this.liveFiles(group)) {
        for (const [file, rotated] of [[live, false], [rotatedPath(live), true]] as const) {
          const st = await stat(file).catch(() => undefined);
          if (!st) continue;
          files.push({ path: file, bytes: st.size, rotated, mtimeMs: st.mtimeMs });
          owners.set(file, group);
        }
      }
    }
    const actions = planLogRotation(files, this.opts.capBytes);
    if (actions.length === 0) return;
    const reopen = new Set<LogGroup>();
    try {
      for (const action of actions) {
        if (action.kind === 'rotate') {
          await rename(action.path, action.to);
          reopen.add(owners.get(action.path)!);
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

  private async liveFiles(group: LogGroup): Promise<string[]> {
    if (!group.dir) return group.files ?? [];
    const names = await readdir(group.dir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.log')).map((n) => path.join(group.dir!, n));
  }
}
