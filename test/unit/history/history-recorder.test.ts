import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../../src/history/history-recorder.js';
import { MetricHistory } from '../../../src/history/metric-history.js';
import type { ReplicaUsage, UsageReader } from '../../../src/runtime/runtime.js';
import type { AppStatus, InstanceStatus } from '../../../src/store/status-model.js';
import { appStatus, instanceStatus } from '../../support/app-status.js';

const instance = (id: string, extra: Partial<InstanceStatus> = {}) => instanceStatus(id, 'r1', extra);

function app(name: string, instances: InstanceStatus[], cpuLimit?: number): AppStatus {
  const n = instances.length;
  return appStatus(name, {
    replicas: { desired: n, ready: n, updated: n },
    instances,
    ...(cpuLimit !== undefined ? { spec: { resources: { cpu: cpuLimit } } as AppStatus['spec'] } : {}),
  });
}

class FakeUsage implements UsageReader {
  readonly forgotten: string[] = [];
  constructor(private readonly readings: Record<string, Partial<ReplicaUsage>>) {}
  async usage(containers: readonly { id: string }[]): Promise<Map<string, ReplicaUsage>> {
    const out = new Map<string, ReplicaUsage>();
    for (const { id } of containers) {
      const r = this.readings[id];
      if (r) out.set(id, { cpu: null, memory: null, memoryBytes: 0, at: 0, source: 'cgroup', ...r });
    }
    return out;
  }
  forgetUsage(id: string): void {
    this.forgotten.push(id);
  }
}

function recorder(apps: AppStatus[], usage: UsageReader, now = 12_345) {
  const history = new MetricHistory(5_000, 10);
  const rec = new HistoryRecorder({
    history,
    apps: () => apps,
    requests: { rps: (a, w) => (a === 'web' && w === 5 ? 50 : 0), p95Ms: (a) => (a === 'web' ? 12 : null) },
    usage,
    logger: pino({ level: 'silent' }),
    now: () => now,
  });
  return { history, rec };
}

describe('HistoryRecorder', () => {
  it('samples every app at one aligned time: request metrics, replica means and sums, counts', async () => {
    const usage = new FakeUsage({
      a: { cpu: 0.5, memory: 0.25, memoryBytes: 100 },
      b: { cpu: 1, memory: 0.75, memoryBytes: 300 },
    });
    const apps = [app('web', [instance('a'), instance('b'), instance('c', { draining: true })], 0.5), app('idle', [])];
    const { history, rec } = recorder(apps, usage);
    await rec.tick();
    expect(history.latest('web')).toEqual({ t: 10_000, rps: 50, p95Ms: 12, cpu: 0.75, cpuCores: 0.75, memory: 0.5, memoryBytes: 400, desired: 3, ready: 3 });
    expect(history.latest('idle')).toEqual({ t: 10_000, rps: 0, p95Ms: null, cpu: null, cpuCores: null, memory: null, memoryBytes: null, desired: 0, ready: 0 });
    expect(rec.replicaLoads('web').map((l) => [l.id, l.cpuCores])).toEqual([['a', 0.25], ['b', 0.5]]);
  });

  it('a replica without a reading yet counts as not measured, not as zero', async () => {
    const { history, rec } = recorder([app('web', [instance('a'), instance('b')])], new FakeUsage({ a: { cpu: null, memory: 0.5, memoryBytes: 10 } }));
    await rec.tick();
    expect(history.latest('web')).toMatchObject({ cpu: null, cpuCores: null, memory: 0.5, memoryBytes: 10 });
    expect(rec.replicaLoads('web')).toEqual([
      { id: 'a', name: 'r-a', cpu: null, cpuCores: null, memory: 0.5, memoryBytes: 10 },
      { id: 'b', name: 'r-b', cpu: null, cpuCores: null, memory: null, memoryBytes: null },
    ]);
  });

  it('forgets replicas that are gone and the history of apps that are gone', async () => {
    const apps = [app('web', [instance('a'), instance('b')]), app('api', [])];
    const usage = new FakeUsage({});
    let now = 5_000;
    const history = new MetricHistory(5_000, 10);
    const rec = new HistoryRecorder({ history, apps: () => apps, requests: { rps: () => 0, p95Ms: () => null }, usage, logger: pino({ level: 'silent' }), now: () => now });
    await rec.tick();
    apps[0] = app('web', [instance('b')]);
    apps.pop();
    now = 10_000;
    await rec.tick();
    expect(usage.forgotten).toEqual(['a']);
    expect(history.apps()).toEqual(['web']);
    rec.stop();
    expect(usage.forgotten).toEqual(['a', 'b']);
  });
});
