import { chmod, copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { PrivateJsonFile, STORE_FILE_MODE } from './private-json-file.js';
import type { Logger } from 'pino';
import { stableJson } from '../core/stable-json.js';
import { ownEntry } from '../core/own-entry.js';
import {
  emptyStoreData,
  type AppStatus,
  type EventRecord,
  type ScalingRecord,
  type StoreData,
} from './status-model.js';

export interface Retention {
  events: number;
  scalingHistory: number;
}

export const DEFAULT_RETENTION: Retention = { events: 2_000, scalingHistory: 1_000 };
const WRITE_DELAY_MS = 100;
/** A failed write (a full disk) is retried after this, doubling up to WRITE_RETRY_MAX_MS. */
const WRITE_RETRY_MIN_MS = 500;
const WRITE_RETRY_MAX_MS = 30_000;
/** How many of an app's newest events a repeat may collapse into. */
const COLLAPSE_WINDOW = 10;

export interface EventInput {
  app?: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface EventQuery {
  app?: string;
  sinceMs?: number;
  limit?: number;
}

/**
 * The JSON file store, on lowdb with an explicit file adapter (not a preset: presets switch to
 * memory under NODE_ENV=test) that writes a 0600 file durably: temp file, fsync, rename
 * (private-json-file.ts), so a crash never leaves half a file. Writes are coalesced: mutations mark
 * the store dirty, one write follows. A write that fails (a full disk) is retried with backoff
 * until one succeeds, whether or not anything changes meanwhile; the outage is logged once when it
 * starts and once when it ends, not at every attempt. Meanwhile the store in memory is the truth.
 * Before each write the good file is kept as `<path>.prev`, the copy `open` recovers from.
 */
export class Store {
  private writeTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Consecutive failed writes (0: the file is up to date, or a write is pending). */
  private failedWrites = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Whether the file at `path` is a good store (read back, or written by us): only that one is kept as the previous copy. */
  private fileGood: boolean;
  private changes = 0;

  private constructor(
    private readonly db: Low<StoreData>,
    private readonly path: string,
    private readonly retention: Retention,
    private readonly logger: Logger,
    fileGood: boolean,
  ) {
    this.fileGood = fileGood;
  }

  /**
   * Opens (or creates) the store. A file that cannot be parsed is moved aside and the previous good
   * copy (`<path>.prev`, kept on each write) takes its place, with a StoreRecovered event; only when
   * that one is unreadable too does the store start empty (StoreCorrupt): status is then rebuilt
   * from the runtime (controllers adopt what runs; see docs/operations.md, failure modes).
   */
  static async open(path: string, logger: Logger, retention: Retention = DEFAULT_RETENTION): Promise<Store> {
    // Only the owner reads the store (specs, events): its directory is created 0700, and a file
    // from an older version is narrowed to 0600 (its previous copy is a link to, or copy of, it).
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await chmod(path, STORE_FILE_MODE).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    const db = new Low<StoreData>(new PrivateJsonFile<StoreData>(path), emptyStoreData());
    const main = await readStore(db);
    if (main === 'ok') return new Store(db, path, retention, logger, true);

    const movedAside = `${path}.corrupt-${Date.now()}`;
    await rename(path, movedAside).catch(() => undefined);
    const previousFile = await stat(previousCopyPath(path)).catch(() => undefined);
    const previous = new Low<StoreData>(new PrivateJsonFile<StoreData>(previousCopyPath(path)), emptyStoreData());
    const recovered = previousFile !== undefined && (await readStore(previous).catch(() => 'unreadable' as const)) === 'ok';
    db.data = recovered ? previous.data : emptyStoreData();
    const store = new Store(db, path, retention, logger, false);
    if (recovered) {
      const written = previousFile.mtime.toISOString();
      logger.warn({ path, movedAside }, 'store file unreadable; moved aside, recovered from the previous copy');
      store.addEvent({
        type: 'Warning',
        reason: 'StoreRecovered',
        message: `state file was unreadable and was moved to ${movedAside}; recovered from the previous copy (written ${written})`,
      });
      await store.flush(); // the main file is good again at once
    } else {
      logger.warn({ path, movedAside }, 'store file and its previous copy unreadable; moved aside, rebuilding from Docker');
      store.addEvent({
        type: 'Warning',
        reason: 'StoreCorrupt',
        message: `state file and its previous copy were unreadable; the file was moved to ${movedAside}; status is rebuilt from Docker (running replicas are adopted as they are)`,
      });
    }
    return store;
  }

  get data(): StoreData {
    return this.db.data;
  }

  app(name: string): AppStatus | undefined {
    return ownEntry(this.db.data.apps, name);
  }

  apps(): AppStatus[] {
    return Object.values(this.db.data.apps).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Creates the record when missing and lets `mutate` change it. Only a real change stamps
   * updatedAt and schedules a write: a resync that finds everything as it was writes nothing.
   */
  updateApp(name: string, mutate: (status: AppStatus) => void): AppStatus {
    const now = new Date().toISOString();
    const status =
      this.app(name) ??
      (this.db.data.apps[name] = {
        name,
        generation: 0,
        observedGeneration: 0,
        phase: 'Pending',
        conditions: [],
        replicas: { desired: 0, ready: 0, updated: 0 },
        instances: [],
        createdAt: now,
        updatedAt: now,
      });
    const before = stableJson(status);
    mutate(status);
    if (stableJson(status) !== before || status.createdAt === now) {
      status.updatedAt = now;
      this.scheduleWrite();
    }
    return status;
  }

  /** host+pathPrefix -> the app holding it. */
  setRouteOwners(owners: Record<string, string>): void {
    this.db.data.routeOwners = owners;
    this.scheduleWrite();
  }

  removeApp(name: string): void {
    delete this.db.data.apps[name];
    this.scheduleWrite();
  }

  /**
   * Appends to the audit log. A repeat of one of the app's recent events (same type, reason and
   * message among its last COLLAPSE_WINDOW) collapses into it: its count and time move, and it moves
   * to the end, so a failing probe of two replicas is two rows with counts, not a flood.
   */
  addEvent(input: EventInput): EventRecord {
    const now = new Date().toISOString();
    const events = this.db.data.events;
    const index = this.recentRepeat(input);
    let record: EventRecord;
    if (index >= 0) {
      record = events.splice(index, 1)[0]!;
      record.count += 1;
      record.time = now;
      events.push(record);
    } else {
      record = { id: this.db.data.nextEventId++, time: now, firstTime: now, count: 1, ...input };
      events.push(record);
      if (events.length > this.retention.events) events.splice(0, events.length - this.retention.events);
    }
    this.scheduleWrite();
    return record;
  }

  /** The index of a recent event of the same app that `input` repeats, or -1. */
  private recentRepeat(input: EventInput): number {
    const events = this.db.data.events;
    let seen = 0;
    for (let i = events.length - 1; i >= 0 && seen < COLLAPSE_WINDOW; i--) {
      const e = events[i]!;
      if (e.app !== input.app) continue;
      seen += 1;
      if (e.reason === input.reason && e.message === input.message && e.type === input.type) return i;
    }
    return -1;
  }

  events(query: EventQuery = {}): EventRecord[] {
    let events = this.db.data.events;
    if (query.app !== undefined) events = events.filter((e) => e.app === query.app);
    if (query.sinceMs !== undefined) events = events.filter((e) => Date.parse(e.time) >= query.sinceMs!);
    return query.limit !== undefined ? events.slice(-query.limit) : [...events];
  }


  addScaling(record: ScalingRecord): void {
    const history = this.db.data.scalingHistory;
    history.push(record);
    if (history.length > this.retention.scalingHistory) history.splice(0, history.length - this.retention.scalingHistory);
    this.scheduleWrite();
  }

  scalingHistory(app: string, limit = 50): ScalingRecord[] {
    return this.db.data.scalingHistory.filter((r) => r.app === app).slice(-limit);
  }

  /** Bumped by every mutation: a watcher compares it to learn that something changed (the UI's live feed). */
  get changeCount(): number {
    return this.changes;
  }

  private scheduleWrite(): void {
    this.changes++;
    // While writes fail, the retry (with its backoff) writes the latest data: no sooner attempts.
    if (this.writeTimer || this.retryTimer) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      void this.write();
    }, WRITE_DELAY_MS);
    this.writeTimer.unref();
  }

  private write(): Promise<void> {
    // Chained so two writes never overlap; each writes the latest data.
    this.writing = this.writing.then(() => this.writeOnce());
    return this.writing;
  }

  private async writeOnce(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    try {
      await this.keepPreviousCopy();
      await this.db.write();
      this.fileGood = true;
    } catch (err) {
      this.failedWrites += 1;
      const retryInMs = Math.min(WRITE_RETRY_MAX_MS, WRITE_RETRY_MIN_MS * 2 ** (this.failedWrites - 1));
      if (this.failedWrites === 1) this.logger.error({ err: String(err), retryInMs }, 'store write failed; retrying with backoff until it succeeds (status is kept in memory)');
      this.retryTimer = setTimeout(() => void this.write(), retryInMs);
      this.retryTimer.unref();
      return;
    }
    if (this.failedWrites > 0) this.logger.info({ failedAttempts: this.failedWrites }, 'store written again');
    this.failedWrites = 0;
  }

  /** Whether the last write failed (the file lags behind; a retry is scheduled). */
  get writeFailing(): boolean {
    return this.failedWrites > 0;
  }

  /**
   * Before the file is replaced, the good one becomes `<path>.prev`: a hard link under a temp name,
   * renamed over the old copy (no copy of the data, never a moment without a previous copy). A
   * file system without hard links gets a plain copy. Failing to keep it never stops the write;
   * while writes fail (a full disk) it is logged once per outage, like the write itself.
   */
  private async keepPreviousCopy(): Promise<void> {
    if (!this.fileGood) return;
    const previous = previousCopyPath(this.path);
    const temp = `${previous}.tmp`;
    try {
      await rm(temp, { force: true });
      await link(this.path, temp).catch(() => copyFile(this.path, temp));
      await rename(temp, previous);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no file yet: nothing to keep
      if (this.failedWrites === 0) this.logger.warn({ err: String(err) }, 'could not keep the previous copy of the store');
    }
  }

  /** Writes now whatever is pending (shutdown); a failure is logged, and no retry follows. */
  async flush(): Promise<void> {
    if (this.writeTimer) {
      clearTimeout(this.writeTimer);
      this.writeTimer = undefined;
    }
    await this.write();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

/** Where the previous good copy of a store file is kept. */
export function previousCopyPath(path: string): string {
  return `${path}.prev`;
}

/** Reads a store file: ok (a missing file reads as an empty store), or unreadable content. I/O errors throw. */
async function readStore(db: Low<StoreData>): Promise<'ok' | 'unreadable'> {
  try {
    await db.read();
  } catch (err) {
    // Unreadable content; an I/O error (permissions, disk) is not ours to discard.
    if (err instanceof SyntaxError) return 'unreadable';
    throw err;
  }
  return isStoreData(db.data) ? 'ok' : 'unreadable';
}

function isStoreData(value: unknown): value is StoreData {
  const data = value as Partial<StoreData> | null;
  return !!data && typeof data === 'object' && data.version === 1 && typeof data.apps === 'object' && Array.isArray(data.events);
}
