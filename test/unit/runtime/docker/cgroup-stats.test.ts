import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CgroupReader,
  cgroupFileCandidates,
  detectCgroupLayout,
  parseMountinfo,
  parseProcCgroup,
} from '../../../../src/runtime/docker/cgroup-stats.js';

const ID = 'a'.repeat(64);

// This host's shape: cgroup v1, cgroupfs driver, a hybrid empty cgroup2 at /sys/fs/cgroup/unified.
const V1_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
// A typical systemd v1 host: cpu and cpuacct co-mounted.
const V1_COMOUNT = `25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
26 24 0:23 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory`;
const V2_MOUNTINFO = `30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;

describe('cgroup layout', () => {
  it('detects v1 (also hybrid and co-mounted) and v2 from mountinfo', () => {
    const v1 = detectCgroupLayout(parseMountinfo(V1_MOUNTINFO));
    expect(v1).toMatchObject({ version: 1, cpu: { mountPoint: '/sys/fs/cgroup/cpuacct' }, memory: { mountPoint: '/sys/fs/cgroup/memory' } });
    expect(detectCgroupLayout(parseMountinfo(V1_COMOUNT))?.cpu.mountPoint).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(detectCgroupLayout(parseMountinfo(V2_MOUNTINFO))).toMatchObject({ version: 2, cpu: { mountPoint: '/sys/fs/cgroup' } });
    expect(detectCgroupLayout(parseMountinfo('22 1 8:1 / / rw - ext4 /dev/sda1 rw'))).toBeUndefined();
  });

  it('maps /proc/<pid>/cgroup to files: cgroupfs v1, systemd v2, and Docker defaults as fallbacks', () => {
    const v1 = detectCgroupLayout(parseMountinfo(V1_MOUNTINFO))!;
    const proc = `4:memory:/docker/${ID}\n2:cpuacct:/docker/${ID}\n1:cpu:/docker/${ID}\n0::/docker/${ID}\n`;
    expect(parseProcCgroup(proc).v1.get('memory')).toBe(`/docker/${ID}`);
    const [first, second] = cgroupFileCandidates(v1, ID, proc);
    expect(first).toEqual({
      version: 1,
      cpuUsage: `/sys/fs/cgroup/cpuacct/docker/${ID}/cpuacct.usage`,
      memoryUsage: `/sys/fs/cgroup/memory/docker/${ID}/memory.usage_in_bytes`,
      memoryStat: `/sys/fs/cgroup/memory/docker/${ID}/memory.stat`,
    });
    expect(second?.cpuUsage).toBe(`/sys/fs/cgroup/cpuacct/system.slice/docker-${ID}.scope/cpuacct.usage`);

    const v2 = detectCgroupLayout(parseMountinfo(V2_MOUNTINFO))!;
    const [sd] = cgroupFileCandidates(v2, ID, `0::/system.slice/docker-${ID}.scope\n`);
    expect(sd).toEqual({
      version: 2,
      cpuUsage: `/sys/fs/cgroup/system.slice/docker-${ID}.scope/cpu.stat`,
      memoryUsage: `/sys/fs/cgroup/system.slice/docker-${ID}.scope/memory.current`,
      memoryStat: `/sys/fs/cgroup/system.slice/docker-${ID}.scope/memory.stat`,
    });
    // pid not visible (other pid namespace): Docker's default paths only
    expect(cgroupFileCandidates(v2, ID).map((c) => c.cpuUsage)).toEqual([
      `/sys/fs/cgroup/docker/${ID}/cpu.stat`,
      `/sys/fs/cgroup/system.slice/docker-${ID}.scope/cpu.stat`,
    ]);
  });

  it('strips the mount root in a cgroup namespace and skips paths outside it', () => {
    const mounts = parseMountinfo('30 23 0:26 /docker /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    const layout = detectCgroupLayout(mounts)!;
    expect(cgroupFileCandidates(layout, ID, `0::/docker/${ID}\n`)[0]?.cpuUsage).toBe(`/sys/fs/cgroup/${ID}/cpu.stat`);
    // outside our namespace: only the Docker defaults remain (host paths, mapped through the mount root)
    expect(cgroupFileCandidates(layout, ID, `0::/../other\n`).map((c) => c.cpuUsage)).toEqual([
      `/sys/fs/cgroup/${ID}/cpu.stat`,
      `/sys/fs/cgroup/system.slice/docker-${ID}.scope/cpu.stat`,
    ]);
  });
});

describe('CgroupReader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'autoserve-cgroup-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads v1 counters: usage minus total_inactive_file, re-reading the same descriptors', async () => {
    const files = { version: 1 as const, cpuUsage: path.join(dir, 'cpuacct.usage'), memoryUsage: path.join(dir, 'mem'), memoryStat: path.join(dir, 'stat') };
    await writeFile(files.cpuUsage, '123456789\n');
    await writeFile(files.memoryUsage, '10000000\n');
    await writeFile(files.memoryStat, 'cache 4096\nrss 100\ninactive_file 1\ntotal_cache 4096\ntotal_inactive_file 2000000\n');
    const reader = CgroupReader.open([{ ...files, cpuUsage: path.join(dir, 'missing') }, files])!;
    expect(reader.files).toEqual(files); // the first candidate does not open
    expect(reader.read()).toEqual({ cpuNs: 123456789, memoryBytes: 8_000_000 });
    await writeFile(files.cpuUsage, '223456789\n');
    expect(reader.read().cpuNs).toBe(223456789);
    reader.close();
    expect(() => reader.read()).toThrow(/closed/);
  });

  it('reads v2 counters: cpu.stat usage_usec, memory.current minus inactive_file', async () => {
    await mkdir(path.join(dir, 'scope'));
    const d = path.join(dir, 'scope');
    await writeFile(path.join(d, 'cpu.stat'), 'usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n');
    await writeFile(path.join(d, 'memory.current'), '3000000\n');
    await writeFile(path.join(d, 'memory.stat'), 'anon 100\nfile 2000\nactive_file 500\ninactive_file 1000000\n');
    const reader = CgroupReader.open([{ version: 2, cpuUsage: path.join(d, 'cpu.stat'), memoryUsage: path.join(d, 'memory.current'), memoryStat: path.join(d, 'memory.stat') }])!;
    expect(reader.read()).toEqual({ cpuNs: 5_000_000, memoryBytes: 2_000_000 });
    reader.close();
  });

  it('opens nothing when no candidate parses', async () => {
    await writeFile(path.join(dir, 'x'), 'garbage\n');
    const x = path.join(dir, 'x');
    expect(CgroupReader.open([{ version: 1, cpuUsage: x, memoryUsage: x, memoryStat: x }])).toBeUndefined();
  });
});
