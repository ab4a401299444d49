import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import type { Logger } from 'pino';
import { stableJson } from '../core/stable-json.js';
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
 * The JSON file store. Built on lowdb's JSONFile adapter (not a preset: presets switch to memory
 * under NODE_ENV=test); lowdb writes through steno, i.e. a temp file and a rename, so a crash never
 * leaves half a file. Writes are coalesced: mutations mark the store dirty, one write follows.
 */
export class Store {
  private writeTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: Low<StoreData>,
    private readonly retention: Retention,
    private readonly logger: Logger,
  ) {}

  /** Opens (or creates) the store. A corrupt file is moved aside and the store starts empty. */
  static async open(path: string, logger: Logger, retention: Retention = DEFAULT_RETENTION): Promise<Store> {
    await mkdir(dirname(path), { recursive: true });
    const db = new Low<StoreData>(new JSONFile<StoreData>(path), emptyStoreData());
    let movedAside: string | undefined;
    try {
      await db.read();
      if (!isStoreData(db.data)) throw new SyntaxError('not an AutoServe store');
    } catch (err) {
      // Unreadable content is moved aside; an I/O error (permissions, disk) is not ours to discard.
      if (!(err instanceof SyntaxError)) throw err;
      movedAside = `${path}.corrupt-${Date.now()}`;
      await rename(path, movedAside).catch(() => undefined);
      db.data = emptyStoreData();
      logger.warn({ path, movedAside, err: String(err) }, 'store file unreadable; moved aside, rebuilding from Docker');
    }
    const store = new Store(db, retention, logger);
    if (movedAside) {
      store.addEvent({
        type: 'Warning',
        reason: 'StoreCorrupt',
        message: `state file was unreadable and was moved to ${movedAside}; status is rebuilt from Docker`,
      });
    }
    return store;
  }

  get data(): StoreData {
    return this.db.data;
  }

  app(name: string): AppStatus | undefined {
    return this.db.data.apps[name];
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
      this.db.data.apps[name] ??
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

  private scheduleWrite(): void {
    if (this.writeTimer) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      void this.write();
    }, WRITE_DELAY_MS);
    this.writeTimer.unref();
  }

  private write(): Promise<void> {
    // Chained so two writes never overlap; each writes the latest data.
    this.writing = this.writing
      .then(() => this.db.write())
      .catch((err: unknown) => this.logger.error({ err: String(err) }, 'store write failed; the next change retries'));
    return this.writing;
  }

  /** Writes now whatever is pending (shutdown). */
  async flush(): Promise<void> {
    if (this.writeTimer) {
      clearTimeout(this.writeTimer);
      this.writeTimer = undefined;
    }
    await this.write();
  }
}

function isStoreData(value: unknown): value is StoreData {
  const data = value as Partial<StoreData> | null;
  return !!data && typeof data === 'object' && data.version === 1 && typeof data.apps === 'object' && Array.isArray(data.events);
}
