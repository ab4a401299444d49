// Scale to zero end to end (real Docker, real nginx with the Lua balancer, the in-process daemon):
// idle apps go to zero after idleSeconds, the first request is held while a replica starts and gets
// 200, a burst at zero is served whole, a broken app's held request gets the timeout 503 with the
// reason, requests a little less than idleSeconds apart keep the app up, a wake survives a
// controller restart, and an app removed while at zero answers its held requests at once.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus } from '../../../src/store/status-model.js';
import { appManifest } from '../../support/app-manifest.js';
import { eventually } from '../../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

const IDLE_SECONDS = 3;
const WAKE_TIMEOUT_SECONDS = 15;

/** An app that sleeps after IDLE_SECONDS: autoscaled (the default here) or manual. */
function sleepyApp(name: string, opts: { mode?: 'auto' | 'manual'; replicas?: number; image?: string; command?: string; wakeTimeoutSeconds?: number } = {}): string {
  const mode = opts.mode ?? 'auto';
  return appManifest(name, {
    replicas: opts.replicas ?? 1,
    ...(opts.image ? { image: opts.image } : {}),
    spec: [
      ...(opts.command ? [`  command: ${opts.command}`] : []),
      '  scaling:',
      '    minReplicas: 0',
      '    maxReplicas: 3',
      `    idleSeconds: ${IDLE_SECONDS}`,
      `    wakeTimeoutSeconds: ${opts.wakeTimeoutSeconds ?? WAKE_TIMEOUT_SECONDS}`,
      '    policy:',
      `      mode: ${mode}`,
      ...(mode === 'auto' ? ['      connections: { targetPerReplica: 200 }'] : []),
    ].join('\n'),
  });
}

interface Reply {
  status: number;
  body: string;
  ms: number;
}

function get(port: number, host: string, timeoutMs = 30_000): Promise<Reply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

describe('scale to zero (real Docker and nginx)', () => {
  let t: TestDaemon;
  const status = (app: string): AppStatus | undefined => t.daemon.store.app(app);
  const events = (app: string, reason: string) => t.daemon.store.events({ app }).filter((e) => e.reason === reason);
  const lb = () => t.options.lbPort;

  async function atZero(app: string, timeoutMs = (IDLE_SECONDS + 10) * 1000): Promise<void> {
    await eventually(async () => {
      expect(status(app)?.phase).toBe('ScaledToZero');
      expect(await t.running(app)).toHaveLength(0);
    }, { timeoutMs, message: `${app} at zero` });
  }

  beforeAll(async () => {
    t = await startTestDaemon('zero');
    if (t.daemon.routes?.holdSupport().kind !== 'yes') throw new Error('these tests need nginx with the Lua module');
  }, 60_000);

  afterAll(async () => {
    await t?.cleanup();
  });

  it('an idle app goes to zero after idleSeconds, and one request wakes it and gets 200', async () => {
    await t.writeManifest('solo.yaml', sleepyApp('solo'));
    await eventually(async () => expect((await get(lb(), 'solo.localhost')).status).toBe(200), { timeoutMs: 20_000 });
    const lastRequestAt = Date.now();
    expect((await get(lb(), 'solo.localhost')).status).toBe(200);
    await atZero('solo');
    const slept = events('solo', 'ScaledToZero');
    expect(slept).toHaveLength(1);
    expect(slept[0]!.message).toMatch(/^scaled to zero after \d+(\.\d)? s idle$/);
    expect(Date.parse(slept[0]!.time) - lastRequestAt).toBeGreaterThanOrEqual(IDLE_SECONDS * 1000 - 100);
    expect(status('solo')?.conditions.find((c) => c.type === 'ScaledToZero')).toMatchObject({ status: 'True', reason: 'Idle' });
    expect(status('solo')?.replicas.desired).toBe(0);

    const reply = await get(lb(), 'solo.localhost');
    expect(reply.status).toBe(200);
    expect(reply.ms).toBeLessThan(WAKE_TIMEOUT_SECONDS * 1000);
    expect(events('solo', 'WokenByRequest')).toHaveLength(1);
    await eventually(() => expect(events('solo', 'WakeCompleted')).toHaveLength(1));
    await eventually(() => expect(status('solo')?.phase).toBe('Running'));
    const metrics = await (await fetch(`http://127.0.0.1:${t.daemon.apiPort}/metrics`)).text();
    expect(metrics).toMatch(/autoserve_wakes_total\{app="solo"\} 1/);
    expect(metrics).toMatch(/autoserve_wake_duration_seconds_count\{app="solo"\} 1/);
    expect(metrics).toMatch(/autoserve_held_requests_total\{app="solo"\} 1/);
    console.log(`[zero] first request at zero answered in ${reply.ms} ms`);
  });

  it('100 concurrent requests at an app at zero all get 200 within the wake time', async () => {
    await atZero('solo');
    const replies = await Promise.all(Array.from({ length: 100 }, () => get(lb(), 'solo.localhost')));
    const statuses = new Map<number, number>();
    for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    expect(Object.fromEntries(statuses)).toEqual({ 200: 100 });
    const slowest = Math.max(...replies.map((r) => r.ms));
    expect(slowest).toBeLessThan(WAKE_TIMEOUT_SECONDS * 1000);
    console.log(`[zero] 100 concurrent at zero: all 200, slowest ${slowest} ms`);
  });

  it('one request every idleSeconds - 1 keeps the app up (no flapping)', async () => {
    await t.writeManifest('steady.yaml', sleepyApp('steady', { mode: 'manual' }));
    await eventually(async () => expect((await get(lb(), 'steady.localhost')).status).toBe(200), { timeoutMs: 20_000 });
    const [replica] = await t.running('steady');
    for (let i = 0; i < 4; i++) {
      await sleep((IDLE_SECONDS - 1) * 1000);
      expect((await get(lb(), 'steady.localhost')).status).toBe(200);
    }
    expect(events('steady', 'ScaledToZero')).toHaveLength(0);
    expect((await t.running('steady')).map((c) => c.id)).toEqual([replica!.id]);
    // ...and without requests it sleeps: the manual app opted in with minReplicas 0.
    await atZero('steady');
  });

  it('an app asleep whose manifest turns scale to zero off starts, and requests meanwhile wait for it: none gets 503', async () => {
    await atZero('steady');
    await t.writeManifest('steady.yaml', appManifest('steady', { spec: ['  scaling:', '    minReplicas: 1', '    maxReplicas: 3', '    policy:', '      mode: manual'].join('\n') }));
    // The controller has taken the change before the first request: no request woke it.
    await eventually(() => expect(status('steady')?.spec?.scaling?.minReplicas).toBe(1), { timeoutMs: 10_000, intervalMs: 20 });
    // One request every 100 ms until the app has served for a second: across the manifest change,
    // the route change and the replica's start.
    const replies: Reply[] = [];
    let servingSince: number | undefined;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (servingSince === undefined || Date.now() - servingSince < 1_000)) {
      const reply = await get(lb(), 'steady.localhost', 20_000);
      replies.push(reply);
      if (reply.status === 200 && servingSince === undefined && status('steady')?.phase === 'Running') servingSince = Date.now();
      await sleep(100);
    }
    const statuses = new Map<number, number>();
    for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    console.log(`[zero] scale to zero turned off while asleep: ${JSON.stringify(Object.fromEntries(statuses))}, slowest ${Math.max(...replies.map((r) => r.ms))} ms`);
    expect(servingSince).toBeDefined();
    expect(Object.fromEntries(statuses)).toEqual({ 200: replies.length });
    expect(events('steady', 'WokenByChange')).toHaveLength(1);
    await eventually(() => expect(status('steady')?.zero).toBeUndefined());
    expect(status('steady')?.conditions.some((c) => c.type === 'ScaledToZero')).toBe(false);
    await t.removeManifest('steady.yaml');
  });

  it('a request to an app whose replicas never get ready is answered 503 at the wake timeout, with the reason', async () => {
    await t.writeManifest('broken.yaml', sleepyApp('broken', { command: '["/bin/busybox", "false"]', wakeTimeoutSeconds: 4 }));
    await atZero('broken', (IDLE_SECONDS + 15) * 1000);
    const reply = await get(lb(), 'broken.localhost');
    expect(reply.status).toBe(503);
    expect(reply.ms).toBeGreaterThanOrEqual(3_900);
    expect(reply.ms).toBeLessThan(6_000);
    const body = JSON.parse(reply.body) as { error: string; app: string; reason: string; waitedSeconds: number };
    expect(body).toMatchObject({ error: 'wake_timeout', app: 'broken', waitedSeconds: 4 });
    expect(body.reason).toMatch(/^no replica became ready within 4 s: 0\/1 replicas ready; .*(autoserve-\S*broken\S* is (exited|starting)|replica exited)/);
    await eventually(() => expect(events('broken', 'WakeTimedOut')).toHaveLength(1));
    // Nobody asks any more: it goes back to sleep instead of crash-looping for ever.
    await atZero('broken', (IDLE_SECONDS + 15) * 1000);
    await t.removeManifest('broken.yaml');
  });

  it('a wake asked for while the controller is down completes once it is back', async () => {
    await atZero('solo');
    await t.stop();
    const held = get(lb(), 'solo.localhost');
    await sleep(500);
    await t.restart();
    const reply = await held;
    expect(reply.status).toBe(200);
    await eventually(() => expect(status('solo')?.phase).toBe('Running'));
  });

  it('an app at zero that is removed answers its held requests at once', async () => {
    await t.writeManifest('gone.yaml', sleepyApp('gone', { command: '["/bin/busybox", "false"]', wakeTimeoutSeconds: 30 }));
    await atZero('gone', (IDLE_SECONDS + 15) * 1000);
    const held = get(lb(), 'gone.localhost');
    await sleep(1_000);
    const removedAt = Date.now();
    await t.removeManifest('gone.yaml');
    const reply = await held;
    expect(Date.now() - removedAt).toBeLessThan(5_000);
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body)).toMatchObject({ error: 'app_removed', app: 'gone' });
  });
});
