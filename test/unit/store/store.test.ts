import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setCondition } from '../../../src/store/conditions.js';
import { Store } from '../../../src/store/store.js';
import { eventually } from '../../support/eventually.js';

const logger = pino({ level: 'silent' });

describe('Store', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autoserve-store-'));
    path = join(dir, 'autoserve.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('persists app status and events to disk and reads them back', async () => {
    const store = await Store.open(path, logger);
    store.updateApp('web', (s) => {
      s.phase = 'Running';
      s.replicas = { desired: 2, ready: 2, updated: 2 };
    });
    store.addEvent({ app: 'web', type: 'Normal', reason: 'Created', message: 'started 2' });
    await store.flush();
    const onDisk = JSON.parse(await readFile(path, 'utf8')) as { apps: Record<string, { phase: string }> };
    expect(onDisk.apps.web?.phase).toBe('Running');
    const reopened = await Store.open(path, logger);
    expect(reopened.app('web')?.replicas.ready).toBe(2);
    expect(reopened.events({ app: 'web' })).toHaveLength(1);
  });

  it('keeps an app whose name is a property every object inherits (constructor) like any other', async () => {
    // A valid DNS label that a plain object answers from its prototype.
    const names = [...new Set(['constructor', ...Object.getOwnPropertyNames(Object.prototype).filter((n) => /^[a-z0-9-]+$/.test(n))])];
    const store = await Store.open(path, logger);
    for (const name of names) {
      expect(store.app(name)).toBeUndefined();
      store.updateApp(name, (s) => {
        s.phase = 'Running';
      });
      expect(store.app(name)).toMatchObject({ name, phase: 'Running' });
    }
    await store.flush();
    const reopened = await Store.open(path, logger);
    expect(reopened.apps().map((a) => a.name)).toEqual(names);
    reopened.removeApp('constructor');
    expect(reopened.app('constructor')).toBeUndefined();
  });

  it('collapses a repeat of the newest event of an app into one row with a count', async () => {
    const store = await Store.open(path, logger);
    for (let i = 0; i < 5; i++) store.addEvent({ app: 'web', type: 'Warning', reason: 'ImagePullFailed', message: 'no such image' });
    store.addEvent({ app: 'other', type: 'Normal', reason: 'Created', message: 'x' });
    store.addEvent({ app: 'web', type: 'Warning', reason: 'ImagePullFailed', message: 'no such image' });
    const web = store.events({ app: 'web' });
    expect(web).toHaveLength(1);
    expect(web[0]!.count).toBe(6);
  });

  it('collapses a repeat of any of the app\'s recent events, and moves it to the end', async () => {
    const store = await Store.open(path, logger);
    const failed = (replica: string) => ({ app: 'web', type: 'Warning' as const, reason: 'ProbeFailed', message: `${replica}: health check failed: GET /healthz -> 404` });
    for (let i = 0; i < 3; i++) {
      store.addEvent(failed('web-0'));
      store.addEvent(failed('web-1'));
    }
    store.addEvent({ app: 'web', type: 'Normal', reason: 'Created', message: 'x' });
    store.addEvent(failed('web-0'));
    const web = store.events({ app: 'web' });
    expect(web.map((e) => [e.message.slice(0, 5), e.count])).toEqual([['web-1', 3], ['x', 1], ['web-0', 4]]);
    // Beyond the window it is a new row.
    for (let i = 0; i < 10; i++) store.addEvent({ app: 'web', type: 'Normal', reason: 'Tick', message: `n${i}` });
    store.addEvent(failed('web-1'));
    expect(store.events({ app: 'web' }).at(-1)).toMatchObject({ count: 1 });
  });

  it('bounds events and scaling history by the retention setting', async () => {
    const store = await Store.open(path, logger, { events: 10, scalingHistory: 3 });
    for (let i = 0; i < 25; i++) store.addEvent({ app: 'web', type: 'Normal', reason: 'Tick', message: `n${i}` });
    for (let i = 0; i < 7; i++) store.addScaling({ time: '', app: 'web', from: i, to: i + 1, reason: 'r', metrics: {} });
    expect(store.events()).toHaveLength(10);
    expect(store.events().at(-1)!.message).toBe('n24');
    expect(store.scalingHistory('web').map((r) => r.to)).toEqual([5, 6, 7]);
  });

  it('filters events by app, time and limit', async () => {
    const store = await Store.open(path, logger);
    store.addEvent({ app: 'a', type: 'Normal', reason: 'R1', message: '1' });
    store.addEvent({ app: 'b', type: 'Normal', reason: 'R2', message: '2' });
    store.addEvent({ app: 'a', type: 'Normal', reason: 'R3', message: '3' });
    expect(store.events({ app: 'a' }).map((e) => e.reason)).toEqual(['R1', 'R3']);
    expect(store.events({ limit: 1 }).map((e) => e.reason)).toEqual(['R3']);
    expect(store.events({ sinceMs: Date.now() + 60_000 })).toEqual([]);
  });

  it('moves a corrupt file aside, starts empty and records why', async () => {
    await writeFile(path, '{"version": 1, "apps": {"web": ');
    const store = await Store.open(path, logger);
    expect(store.apps()).toEqual([]);
    expect(store.events().map((e) => e.reason)).toEqual(['StoreCorrupt']);
    const files = await readdir(dir);
    expect(files.some((f) => f.startsWith('autoserve.json.corrupt-'))).toBe(true);
  });

  it('treats a JSON file that is not a store as corrupt', async () => {
    await writeFile(path, '[1,2,3]');
    const store = await Store.open(path, logger);
    expect(store.events()[0]?.reason).toBe('StoreCorrupt');
  });
  it('a failed write is retried with backoff until it succeeds, logged once per outage, leaving no temp file', async () => {
    const lines: { msg: string }[] = [];
    const captured = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const stateDir = join(dir, 'state');
    const file = join(stateDir, 'autoserve.json');
    const store = await Store.open(file, captured);
    await store.flush();
    await rm(stateDir, { recursive: true }); // every write fails now (as on a full disk)
    for (let i = 0; i < 5; i++) {
      store.updateApp('web', (s) => void (s.replicas.desired = i));
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(store.writeFailing).toBe(true);
    expect(lines.filter((l) => l.msg.startsWith('store write failed'))).toHaveLength(1);
    await mkdir(stateDir);
    await eventually(
      async () => {
        expect(JSON.parse(await readFile(file, 'utf8')).apps.web.replicas.desired).toBe(4);
        expect(store.writeFailing).toBe(false); // set once the write is whole (renamed, directory synced)
      },
      { timeoutMs: 10_000 },
    );
    expect(lines.filter((l) => l.msg === 'store written again')).toHaveLength(1);
    expect((await readdir(stateDir)).filter((f) => !f.endsWith('.prev'))).toEqual(['autoserve.json']); // no temp file left
  });


  it('keeps the previous good copy on each write and recovers from it when the file is corrupt or truncated', async () => {
    const first = await Store.open(path, logger);
    first.updateApp('web', (s) => void (s.haltedRevision = 'r2'));
    await first.flush();
    first.updateApp('web', (s) => void (s.autoscaledReplicas = 6));
    await first.flush();
    // The previous copy is the file as it was before the last write.
    const previous = JSON.parse(await readFile(`${path}.prev`, 'utf8')) as { apps: Record<string, { haltedRevision?: string; autoscaledReplicas?: number }> };
    expect(previous.apps.web).toMatchObject({ haltedRevision: 'r2' });
    expect(previous.apps.web?.autoscaledReplicas).toBeUndefined();

    for (const broken of ['', '{"version": 1, "apps": {"web": {']) {
      await writeFile(path, broken); // a torn write, or a file cut short
      const store = await Store.open(path, logger);
      expect(store.app('web')).toMatchObject({ haltedRevision: 'r2' });
      expect(store.events().at(-1)).toMatchObject({ type: 'Warning', reason: 'StoreRecovered' });
      expect(store.events().at(-1)!.message).toMatch(/moved to .*corrupt-.*recovered from the previous copy/);
      // The main file is valid again at once.
      expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ version: 1 });
    }
  });

  it('rebuilds empty only when the previous copy is unreadable too', async () => {
    await writeFile(path, 'garbage');
    await writeFile(`${path}.prev`, '{"version": 1, ');
    const store = await Store.open(path, logger);
    expect(store.apps()).toEqual([]);
    expect(store.events().map((e) => e.reason)).toEqual(['StoreCorrupt']);
    expect(store.events()[0]!.message).toMatch(/its previous copy were unreadable/);
  });

  it('a corrupt file never becomes the previous copy', async () => {
    const first = await Store.open(path, logger);
    first.updateApp('web', (s) => void (s.autoscaledReplicas = 3));
    await first.flush();
    await first.flush(); // now .prev holds the good file
    await writeFile(path, 'garbage');
    const store = await Store.open(path, logger); // recovers, and writes
    store.updateApp('web', (s) => void (s.autoscaledReplicas = 4));
    await store.flush();
    const previous = JSON.parse(await readFile(`${path}.prev`, 'utf8')) as { version: number };
    expect(previous.version).toBe(1);
  });
});

describe('setCondition', () => {
  it('moves lastTransitionTime only when the status flips', () => {
    const conditions: Parameters<typeof setCondition>[0] = [];
    setCondition(conditions, { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, new Date(1_000));
    setCondition(conditions, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, new Date(2_000));
    expect(conditions[0]).toMatchObject({ reason: 'B', lastTransitionTime: new Date(1_000).toISOString() });
    setCondition(conditions, { type: 'Ready', status: 'True', reason: 'C', message: 'c' }, new Date(3_000));
    expect(conditions[0]!.lastTransitionTime).toBe(new Date(3_000).toISOString());
  });

});
