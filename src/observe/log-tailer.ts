// Follows one append-only log file by polling: complete lines out, the partial last line held
// until its newline arrives. Survives rotation by rename (drains the old file, then reads the new
// one from its start), truncation in place (starts again at 0), and a file that appears later.
import { open, stat, type FileHandle } from 'node:fs/promises';

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
/** At most this much is read per poll, so one huge backlog cannot hold the event loop. */
export const DEFAULT_MAX_READ_PER_POLL = 16 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

export interface LogTailerOptions {
  /** Where to start in a file that exists at the first poll: 'end', 'start', or this many bytes before the end. */
  startAt?: 'end' | 'start' | { backfillBytes: number };
  maxLineBytes?: number;
  maxReadPerPoll?: number;
}

export type PollResult = 'ok' | 'missing';

export class LogTailer {
  private handle: FileHandle | undefined;
  private ino = -1;
  private offset = 0;
  private carry: Buffer | undefined;
  private skipFirstLine = false;
  private firstPoll = true;
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly maxLineBytes: number;
  private readonly maxReadPerPoll: number;

  constructor(
    readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly opts: LogTailerOptions = {},
  ) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxReadPerPoll = opts.maxReadPerPoll ?? DEFAULT_MAX_READ_PER_POLL;
  }

  /** Reads what was appended since the last poll. 'missing': the file does not exist (now). */
  async poll(): Promise<PollResult> {
    const st = await stat(this.file).catch(() => undefined);
    const firstPoll = this.firstPoll;
    this.firstPoll = false;
    if (this.handle) {
      if (!st || st.ino !== this.ino) {
        // Removed or rotated: the lines already written to the open file come first.
        await this.drain();
        await this.closeHandle();
        if (!st) return 'missing';
      } else if (st.size < this.offset) {
        // Truncated in place (copytruncate). Compared before this poll reads anything: a size taken
        // before a read that then runs past it would look like a truncation.
        this.offset = 0;
        this.carry = undefined;
        this.skipFirstLine = false;
      }
    }
    if (!st) return 'missing';
    if (!this.handle) await this.openAt(firstPoll ? this.opts.startAt ?? 'end' : 'start', st.size);
    await this.drain();
    return 'ok';
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  private async openAt(startAt: NonNullable<LogTailerOptions['startAt']>, size: number): Promise<void> {
    try {
      this.handle = await open(this.file, 'r');
      this.ino = (await this.handle.stat()).ino;
    } catch {
      await this.closeHandle();
      return;
    }
    this.carry = undefined;
    if (startAt === 'start') this.offset = 0;
    else if (startAt === 'end') this.offset = size;
    else this.offset = Math.max(0, size - startAt.backfillBytes);
    // Starting mid-file: the first (partial) line is not ours to parse.
    this.skipFirstLine = this.offset > 0 && startAt !== 'end';
  }

  private async drain(): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    let budget = this.maxReadPerPoll;
    while (budget > 0) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(this.chunk, 0, Math.min(CHUNK_BYTES, budget), this.offset));
      } catch {
        return;
      }
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      budget -= bytesRead;
      this.split(this.chunk, bytesRead);
    }
  }

  private split(buf: Buffer, length: number): void {
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0 || nl >= length) break;
      if (this.carry) {
        const line = Buffer.concat([this.carry, buf.subarray(start, nl)]);
        this.carry = undefined;
        this.emit(line, 0, line.length);
      } else {
        this.emit(buf, start, nl);
      }
      start = nl + 1;
    }
    if (start < length) {
      const rest = buf.subarray(start, length);
      const carried = this.carry ? this.carry.length : 0;
      // A line longer than maxLineBytes is dropped whole (its tail is skipped at the next newline).
      if (carried + rest.length > this.maxLineBytes) {
        this.carry = undefined;
        this.skipFirstLine = true;
      } else {
        this.carry = this.carry ? Buffer.concat([this.carry, rest]) : Buffer.from(rest);
      }
    }
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (this.skipFirstLine) {
      this.skipFirstLine = false;
      return;
    }
    if (end > start) this.onLine(buf.toString('utf8', start, end));
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.ino = -1;
    this.carry = undefined;
    this.skipFirstLine = false;
    await handle?.close().catch(() => undefined);
  }
}
