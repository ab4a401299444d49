// Follows one append-only log file by polling: complete lines out, the partial last line held
// until its newline arrives. Survives rotation by rename, truncation in place (starts again at 0),
// and a file that appears later.
//
// Rotation by rename: the writer (nginx) keeps appending to the renamed file until it reopens its
// logs, some moments after the rename. So the renamed file stays open and is read on every poll
// until it has been quiet for ROTATED_QUIET_MS, beside the new file read from its start: no line
// written on either side of the reopen is lost, and none is read twice. A file that was deleted
// (no name left) is drained once and closed.
import { open, stat, type FileHandle } from 'node:fs/promises';

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
/** At most this much is read per poll, so one huge backlog cannot hold the event loop. */
export const DEFAULT_MAX_READ_PER_POLL = 16 * 1024 * 1024;
/** A rotated file that gained nothing for this long is done: the writer has reopened. */
export const ROTATED_QUIET_MS = 3_000;
const CHUNK_BYTES = 64 * 1024;

export interface LogTailerOptions {
  /** Where to start in a file that exists at the first poll: 'end', 'start', or this many bytes before the end. */
  startAt?: 'end' | 'start' | { backfillBytes: number };
  maxLineBytes?: number;
  maxReadPerPoll?: number;
  /** Clock, ms (tests). */
  now?: () => number;
}

export type PollResult = 'ok' | 'missing';

/** One open file and where we are in it. */
interface Cursor {
  handle: FileHandle;
  ino: number;
  offset: number;
  carry: Buffer | undefined;
  skipFirstLine: boolean;
  /** For a rotated file: when it last gave us bytes. */
  lastReadAt: number;
}

export class LogTailer {
  private current: Cursor | undefined;
  private rotated: Cursor | undefined;
  private firstPoll = true;
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly maxLineBytes: number;
  private readonly maxReadPerPoll: number;
  private readonly now: () => number;

  constructor(
    readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly opts: LogTailerOptions = {},
  ) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxReadPerPoll = opts.maxReadPerPoll ?? DEFAULT_MAX_READ_PER_POLL;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Reads what was appended since the last poll. 'missing': the file does not exist (now) and no
   * rotated copy of it is still being read.
   */
  async poll(): Promise<PollResult> {
    const st = await stat(this.file).catch(() => undefined);
    const firstPoll = this.firstPoll;
    this.firstPoll = false;
    await this.readRotated();
    const current = this.current;
    if (current) {
      if (!st || st.ino !== current.ino) {
        // Renamed (rotation) or deleted: the lines already written to the open file come first.
        this.current = undefined;
        await this.drain(current);
        if ((await current.handle.stat().catch(() => undefined))?.nlink) await this.keepRotated(current);
        else await current.handle.close().catch(() => undefined);
      } else if (st.size < current.offset) {
        // Truncated in place (copytruncate). Compared before this poll reads anything: a size taken
        // before a read that then runs past it would look like a truncation.
        current.offset = 0;
        current.carry = undefined;
        current.skipFirstLine = false;
      }
    }
    if (!st) return this.rotated ? 'ok' : 'missing';
    if (!this.current) this.current = await this.openAt(firstPoll ? this.opts.startAt ?? 'end' : 'start', st.size);
    if (this.current) await this.drain(this.current);
    return 'ok';
  }

  async close(): Promise<void> {
    for (const cursor of [this.current, this.rotated]) await cursor?.handle.close().catch(() => undefined);
    this.current = undefined;
    this.rotated = undefined;
  }

  /** The file rotated while a previous rotated copy was still open: that one is finished first. */
  private async keepRotated(cursor: Cursor): Promise<void> {
    if (this.rotated) await this.finishRotated();
    cursor.lastReadAt = this.now();
    this.rotated = cursor;
  }

  private async readRotated(): Promise<void> {
    const rotated = this.rotated;
    if (!rotated) return;
    if ((await this.drain(rotated)) > 0) rotated.lastReadAt = this.now();
    else if (this.now() - rotated.lastReadAt >= ROTATED_QUIET_MS) await this.finishRotated();
  }

  private async finishRotated(): Promise<void> {
    const rotated = this.rotated;
    this.rotated = undefined;
    if (!rotated) return;
    await this.drain(rotated);
    await rotated.handle.close().catch(() => undefined);
  }

  private async openAt(startAt: NonNullable<LogTailerOptions['startAt']>, size: number): Promise<Cursor | undefined> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.file, 'r');
      const ino = (await handle.stat()).ino;
      const offset = startAt === 'start' ? 0 : startAt === 'end' ? size : Math.max(0, size - startAt.backfillBytes);
      // Starting mid-file: the first (partial) line is not ours to parse.
      return { handle, ino, offset, carry: undefined, skipFirstLine: offset > 0 && startAt !== 'end', lastReadAt: this.now() };
    } catch {
      await handle?.close().catch(() => undefined);
      return undefined;
    }
  }

  /** Reads what the cursor's file gained (up to the per-poll budget); returns how many bytes. */
  private async drain(cursor: Cursor): Promise<number> {
    let budget = this.maxReadPerPoll;
    let total = 0;
    while (budget > 0) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await cursor.handle.read(this.chunk, 0, Math.min(CHUNK_BYTES, budget), cursor.offset));
      } catch {
        return total;
      }
      if (bytesRead === 0) return total;
      cursor.offset += bytesRead;
      budget -= bytesRead;
      total += bytesRead;
      this.split(cursor, this.chunk, bytesRead);
    }
    return total;
  }

  private split(cursor: Cursor, buf: Buffer, length: number): void {
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0 || nl >= length) break;
      if (cursor.carry) {
        const line = Buffer.concat([cursor.carry, buf.subarray(start, nl)]);
        cursor.carry = undefined;
        this.emit(cursor, line, 0, line.length);
      } else {
        this.emit(cursor, buf, start, nl);
      }
      start = nl + 1;
    }
    if (start < length) {
      const rest = buf.subarray(start, length);
      const carried = cursor.carry ? cursor.carry.length : 0;
      // A line longer than maxLineBytes is dropped whole (its tail is skipped at the next newline).
      if (carried + rest.length > this.maxLineBytes) {
        cursor.carry = undefined;
        cursor.skipFirstLine = true;
      } else {
        cursor.carry = cursor.carry ? Buffer.concat([cursor.carry, rest]) : Buffer.from(rest);
      }
    }
  }

  private emit(cursor: Cursor, buf: Buffer, start: number, end: number): void {
    if (cursor.skipFirstLine) {
      cursor.skipFirstLine = false;
      return;
    }
    if (end > start) this.onLine(buf.toString('utf8', start, end));
  }
}
