// Issue 10, item 11: a corrupt or truncated store keeps what it can. The controller (a real
// `autoserve run`) is killed with -9, its store file broken, and started again: first the file
// alone (recovered from the previous copy), then the file and its previous copy (rebuilt from
// Docker). Either way no running replica is touched, an autoscaled app keeps its count for a full
// window of fresh metrics, and a halted rollout stays halted. A steady load goes through nginx.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus, EventRecord } from '../../src/store/status-model.js';
import { appManifest } from '../support/app-manifest.js';
import { eventually } from '../support/eventually.js';
import { httpGet } from '../support/http-get.js';
import { failuresOf, restartableDaemon, seconds, sleep, steadyLoad, type RestartableDaemon } from './chaos.js';
import { recordFigures } from './figures.js';

const AUTO = 'auto';
const ROLL = 'roll';
const WINDOW_S = 10;
const AUTO_MANIFEST = appManifest(AUTO, {
  replicas: 1,
  spec: `  scaling:\n    minReplicas: 1\n    maxReplicas: 4\n    policy:\n      mode: auto\n      cooldownSeconds: 5\n      http: { targetRPSPerReplica: 100, windowSeconds: ${WINDOW_S} }`,
});
const ROLL_GOOD = appManifest(ROLL, { replicas: 2, spec: '  rollout:\n    progressDeadlineSeconds: 5' });
const ROLL_CRASH = appManifest(ROLL, { replicas: 2, spec: '  rollout:\n    progressDeadlineSeconds: 5\n  command: ["/bin/busybox", "false"]' });

describe('a corrupt store keeps what it can', () => {
  let d: RestartableDaemon;
  const storePath = () => join(d.stateDir, 'autoserve.json');
  const api = async <T>(path: string): Promise<T> => JSON.parse((await httpGet(d.apiPort, '127.0.0.1', path)).body) as T;
  const ids = async (app: string) => (await d.replicas(app)).map((r) => r.id).sort();

  beforeAll(async () => {
    d = await restartableDaemon('chaos-store');
    await d.writeManifest('auto.yaml', AUTO_MANIFEST);
    await d.writeManifest('roll.yaml', ROLL_GOOD);
    await d.start();
    await eventually(async () => expect((await api<AppStatus>(`/apps/${ROLL}`)).phase).toBe('Running'), { timeoutMs: 40_000, intervalMs: 250 });
    // The autoscaler chose 3 replicas earlier: written into the store while the controller is down.
    await d.stop();
    const data = JSON.parse(await readFile(storePath(), 'utf8')) as { apps: Record<string, AppStatus> };
    data.apps[AUTO]!.autoscaledReplicas = 3;
    await writeFile(storePath(), JSON.stringify(data));
    await d.start();
    await eventually(async () => expect((await d.replicas(AUTO)).filter((r) => r.running)).toHaveLength(3), { timeoutMs: 30_000 });
    // A rollout that fails and is halted.
    await d.writeManifest('roll.yaml', ROLL_CRASH);
    await eventually(async () => expect((await api<AppStatus>(`/apps/${ROLL}`)).haltedRevision).toBeDefined(), { timeoutMs: 30_000, intervalMs: 250 });
    await eventually(async () => expect((await d.replicas(ROLL)).filter((r) => r.running)).toHaveLength(2), { timeoutMs: 20_000 });
    await sleep(1_000); // the store's previous copy now holds the halt too
  });
  afterAll(async () => {
    await d?.cleanup();
  });

  const cases: { name: string; break: () => Promise<void>; reason: string }[] = [
    { name: 'truncated store file', reason: 'StoreRecovered', break: () => writeFile(storePath(), '{"version": 1, "apps": {"auto": {"na') },
    {
      name: 'store file and its previous copy unreadable',
      reason: 'StoreCorrupt',
      break: async () => {
        await writeFile(storePath(), '');
        await writeFile(`${storePath()}.prev`, 'not json');
      },
    },
  ];

  for (const c of cases) {
    it(`${c.name}: no replica touched, no scale-in within a window, the halted rollout stays halted`, async () => {
      const before = { auto: await ids(AUTO), roll: await ids(ROLL) };
      const halted = (await api<AppStatus>(`/apps/${ROLL}`)).haltedRevision;
      const load = steadyLoad(d.lbPort, `${ROLL}.localhost`);
      await d.kill9();
      await c.break();
      const started = Date.now();
      await d.start();
      const ready = seconds(started);
      const { events } = await api<{ events: EventRecord[] }>('/events');
      expect(events.map((e) => e.reason)).toContain(c.reason);
      // No scale-in before a full window of fresh metrics (the autoscaler may scale the idle app in
      // after it, rightly: the next case restarts the controller before that).
      while (seconds(started) < WINDOW_S - 1.5) {
        await sleep(1_000);
        expect(await ids(AUTO)).toEqual(before.auto);
        expect(await ids(ROLL)).toEqual(before.roll);
        expect((await api<AppStatus>(`/apps/${AUTO}`)).autoscaledReplicas).toBe(3);
      }
      const result = await load.stop();
      const roll = await api<AppStatus>(`/apps/${ROLL}`);
      expect(roll.haltedRevision).toBe(halted);
      expect(roll.conditions.find((x) => x.type === 'RolloutFailed')?.status).toBe('True');
      recordFigures(`store: ${c.name}`, { secondsToReady: ready, failedRequests: result.failed, sent: result.sent, replicasTouched: 0 });
      expect(result.failed, failuresOf(result)).toBe(0);
    });
  }
});
