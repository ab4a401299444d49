import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerMetricsSampler } from '../../../../src/runtime/docker/container-metrics.js';
import { countersFromStats, type DockerStatsBody } from '../../../../src/runtime/docker/stats-api.js';

const logger = pino({ level: 'silent' });
const GiB = 1024 ** 3;

interface FakeContainer {
  pid: number;
  running?: boolean;
  nanoCpus?: number;
  memory?: number;
  stats?: () => DockerStatsBody;
}

function fakeDocker(containers: Record<string, FakeContainer>, calls: { inspect: number; stats: number }): Docker {
  return {
    getContainer: (id: string) => ({
      inspect: async () => {
        calls.inspect++;
        const c = containers[id];
        if (!c) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return { Id: id, State: { Running: c.running ?? true, Pid: c.pid }, HostConfig: { NanoCpus: c.nanoCpus ?? 0, Memory: c.memory ?? 0 } };
      },
      stats: async () => {
        calls.stats++;
        const c = containers[id];
        if (!c?.stats) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return c.stats();
      },
    }),
  } as unknown as Docker;
}

describe('ContainerMetricsSampler (fake /proc and cgroup v1 tree)', () => {
  let root: string;
  let proc: string;
  const calls = { inspect: 0, stats: 0 };

  async function cgroupFiles(id: string, cpuNs: number, usage: number, inactive: number): Promise<void> {
    const cpuDir = path.join(root, 'cg', 'cpuacct', 'docker', id);
    const memDir = path.join(root, 'cg', 'memory', 'docker', id);
    await mkdir(cpuDir, { recursive: true });
    await mkdir(memDir, { recursive: true });
    await writeFile(path.join(cpuDir, 'cpuacct.usage'), `${cpuNs}\n`);
    await writeFile(path.join(memDir, 'memory.usage_in_bytes'), `${usage}\n`);
    await writeFile(path.join(memDir, 'memory.stat'), `cache 0\ntotal_inactive_file ${inactive}\n`);
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'autoserve-sampler-'));
    proc = path.join(root, 'proc');
    await mkdir(path.join(proc, 'self'), { recursive: true });
    await writeFile(
      path.join(proc, 'self', 'mountinfo'),
      `32 31 0:29 / ${root}/cg/cpuacct rw - cgroup cgroup rw,cpuacct\n35 31 0:32 / ${root}/cg/memory rw - cgroup cgroup rw,memory\n`,
    );
    for (const [id, pid] of [['c1', 101], ['c2', 102]] as const) {
      await mkdir(path.join(proc, String(pid)), { recursive: true });
      await writeFile(path.join(proc, String(pid), 'cgroup'), `4:memory:/docker/${id}\n2:cpuacct:/docker/${id}\n`);
    }
    calls.inspect = 0;
    calls.stats = 0;
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('gives null CPU first, then the share of the CPU limit; memory as a share of the limit or of host memory', async () => {
    await cgroupFiles('c1', 1_000_000_000, 300 * 1024 ** 2, 100 * 1024 ** 2);
    await cgroupFiles('c2', 0, GiB, 0);
    const docker = fakeDocker({ c1: { pid: 101, nanoCpus: 0.5e9, memory: 400 * 1024 ** 2 }, c2: { pid: 102 } }, calls);
    const sampler = new ContainerMetricsSampler({ docker, logger, source: 'cgroup', procRoot: proc, hostMemoryBytes: 16 * GiB });
    const firstStarted = performance.now();
    const first = await sampler.sample([{ id: 'c1' }, { id: 'c2' }]);
    const firstEnded = performance.now();
    expect(first.get('c1')).toMatchObject({ cpu: null, memory: 0.5, memoryBytes: 200 * 1024 ** 2, source: 'cgroup' });
    expect(first.get('c2')).toMatchObject({ cpu: null, memory: 1 / 16 });

    await new Promise((r) => setTimeout(r, 200));
    // c1 used 0.1 s of CPU: at a 0.5-core limit over ~0.2 s that is ~100 % of its limit
    await cgroupFiles('c1', 1_100_000_000, 300 * 1024 ** 2, 100 * 1024 ** 2);
    await cgroupFiles('c2', 20_000_000, GiB, 0);
    const secondStarted = performance.now();
    const second = await sampler.sample([{ id: 'c1' }, { id: 'c2' }]);
    const secondEnded = performance.now();
    // The sampler's own interval lies between the gap of the two calls and their whole span.
    const shortestS = (secondStarted - firstEnded) / 1000;
    const longestS = (secondEnded - firstStarted) / 1000;
    expect(second.get('c1')!.cpu!).toBeGreaterThanOrEqual(0.1 / longestS / 0.5 - 1e-9);
    expect(second.get('c1')!.cpu!).toBeLessThanOrEqual(0.1 / shortestS / 0.5 + 1e-9);
    expect(second.get('c2')!.cpu!).toBeGreaterThan(0.03); // of one core, no limit
    expect(second.get('c2')!.cpu!).toBeLessThan(0.15);
    expect(calls).toEqual({ inspect: 2, stats: 0 }); // inspected once, cgroup read after that
    sampler.close();
  });

  it('uses limits given by the caller over inspect', async () => {
    await cgroupFiles('c1', 0, 100, 0);
    const sampler = new ContainerMetricsSampler({ docker: fakeDocker({ c1: { pid: 101, memory: 1000 } }, calls), logger, procRoot: proc });
    const s = await sampler.sample([{ id: 'c1', limits: { memoryBytes: 400 } }]);
    expect(s.get('c1')?.memory).toBe(0.25);
    sampler.close();
  });

  it('treats a counter reset as a first sample, and re-inspects a container whose cgroup files fail', async () => {
    await cgroupFiles('c1', 5_000_000_000, 100, 0);
    const sampler = new ContainerMetricsSampler({ docker: fakeDocker({ c1: { pid: 101 } }, calls), logger, source: 'cgroup', procRoot: proc });
    await sampler.sample([{ id: 'c1' }]);
    await cgroupFiles('c1', 1_000, 100, 0); // restarted in place: counter back near 0
    expect((await sampler.sample([{ id: 'c1' }])).get('c1')?.cpu).toBeNull();
    expect(calls.inspect).toBe(1);
    // unreadable (the kernel answers ENODEV for a removed cgroup; garbage fails the same way here)
    await writeFile(path.join(root, 'cg', 'cpuacct', 'docker', 'c1', 'cpuacct.usage'), 'gone\n');
    expect((await sampler.sample([{ id: 'c1' }])).has('c1')).toBe(false);
    await cgroupFiles('c1', 2_000, 100, 0);
    expect((await sampler.sample([{ id: 'c1' }])).get('c1')).toMatchObject({ cpu: null, memoryBytes: 100 });
    expect(calls.inspect).toBe(2);
    sampler.close();
  });

  it('falls back to the Docker stats API where no cgroup file is reachable (auto), and omits it with source cgroup', async () => {
    let total = 2_000_000_000;
    let read = Date.parse('2024-01-01T00:00:10Z');
    const stats = (): DockerStatsBody => ({
      read: new Date(read).toISOString(),
      preread: new Date(read - 1000).toISOString(),
      cpu_stats: { cpu_usage: { total_usage: total } },
      precpu_stats: { cpu_usage: { total_usage: total - 250_000_000 } },
      memory_stats: { usage: 500, stats: { total_inactive_file: 100 } },
    });
    const containers = { ghost: { pid: 999, nanoCpus: 0.5e9, memory: 800, stats } };
    const auto = new ContainerMetricsSampler({ docker: fakeDocker(containers, calls), logger, procRoot: proc });
    const first = await auto.sample([{ id: 'ghost' }]);
    // first API call: dockerd's own ~1 s precpu delta (0.25 core of a 0.5 limit)
    expect(first.get('ghost')).toMatchObject({ cpu: 0.5, memory: 0.5, memoryBytes: 400, source: 'api' });
    total += 1_000_000_000;
    read += 4000;
    expect((await auto.sample([{ id: 'ghost' }])).get('ghost')?.cpu).toBeCloseTo(0.5, 9); // 1 s over 4 s / 0.5
    auto.close();

    const cgroupOnly = new ContainerMetricsSampler({ docker: fakeDocker(containers, calls), logger, source: 'cgroup', procRoot: proc });
    expect((await cgroupOnly.sample([{ id: 'ghost' }])).size).toBe(0);
  });

  it('omits containers that are not running or gone, without failing the others', async () => {
    await cgroupFiles('c1', 0, 100, 0);
    const docker = fakeDocker({ c1: { pid: 101 }, stopped: { pid: 0, running: false } }, calls);
    const sampler = new ContainerMetricsSampler({ docker, logger, procRoot: proc });
    const s = await sampler.sample([{ id: 'c1' }, { id: 'stopped' }, { id: 'gone' }]);
    expect([...s.keys()]).toEqual(['c1']);
    sampler.close();
  });
});

describe('countersFromStats', () => {
  it('reads v2 bodies (inactive_file) and tolerates a missing precpu sample', () => {
    const c = countersFromStats({
      read: '2024-01-01T00:00:01.5Z',
      preread: '0001-01-01T00:00:00Z',
      cpu_stats: { cpu_usage: { total_usage: 10 } },
      precpu_stats: { cpu_usage: {} },
      memory_stats: { usage: 1000, stats: { inactive_file: 300 } },
    });
    expect(c).toEqual({ cpuNs: 10, readAtMs: Date.parse('2024-01-01T00:00:01.5Z'), precpuCores: null, memoryBytes: 700 });
    expect(countersFromStats({ read: '0001-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 0 } } })).toBeUndefined();
  });
});
