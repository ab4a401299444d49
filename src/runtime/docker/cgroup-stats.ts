// A container's CPU and memory counters read straight from its cgroup files (~20 µs a read,
// against ~1 s for a Docker stats API call). Finds the files from the container's init pid
// (/proc/<pid>/cgroup mapped through our /proc/self/mountinfo), so cgroupfs and systemd drivers,
// cgroup v1 and v2, and a controller in a cgroup namespace all resolve the same way; Docker's
// default paths (docker/<id>, system.slice/docker-<id>.scope) are tried when the pid is not visible.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';

export type CgroupVersion = 1 | 2;

/** One cgroup filesystem mount from /proc/self/mountinfo. */
export interface CgroupMount {
  version: CgroupVersion;
  /** Where it is mounted in our mount namespace. */
  mountPoint: string;
  /** Which cgroup of the hierarchy appears at mountPoint ("/" unless we are in a cgroup namespace or a bind mount). */
  root: string;
  /** v1 controllers (cpu, cpuacct, memory, name=systemd, ...); empty for v2. */
  controllers: string[];
}

/** Where CPU and memory live on this host, detected once from the mount table. */
export interface CgroupLayout {
  version: CgroupVersion;
  /** v1: the hierarchy holding cpuacct; v2: the unified mount. */
  cpu: CgroupMount;
  /** v1: the hierarchy holding memory; v2: the unified mount. */
  memory: CgroupMount;
}

/** The files one container's counters are read from. */
export interface ContainerCgroupFiles {
  version: CgroupVersion;
  /** v1 cpuacct.usage (ns) or v2 cpu.stat (usage_usec line). */
  cpuUsage: string;
  /** v1 memory.usage_in_bytes or v2 memory.current. */
  memoryUsage: string;
  /** memory.stat: total_inactive_file (v1) or inactive_file (v2) is subtracted, as `docker stats` does. */
  memoryStat: string;
}

export interface CgroupCounters {
  /** Cumulative CPU time, nanoseconds. */
  cpuNs: number;
  /** Usage minus inactive file cache (Docker's "MEM USAGE"). */
  memoryBytes: number;
}

export function parseMountinfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root mountPoint options [optional fields...] - fstype source superOptions
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fsType = right[0];
    const root = left[3];
    const mountPoint = left[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (fsType === 'cgroup2') {
      mounts.push({ version: 2, mountPoint: unescapeMount(mountPoint), root: unescapeMount(root), controllers: [] });
    } else if (fsType === 'cgroup') {
      const controllers = (right[2] ?? '').split(',').filter((o) => !['rw', 'ro'].includes(o) && !o.startsWith('relatime'));
      mounts.push({ version: 1, mountPoint: unescapeMount(mountPoint), root: unescapeMount(root), controllers });
    }
  }
  return mounts;
}

/**
 * v1 when a v1 hierarchy carries both cpuacct and memory (hybrid hosts mount an empty cgroup2 at
 * /sys/fs/cgroup/unified: it holds no controllers, so v1 wins); v2 when only a unified mount exists.
 * Undefined when neither is mounted (no cgroup reading possible: use the Docker API).
 */
export function detectCgroupLayout(mounts: readonly CgroupMount[]): CgroupLayout | undefined {
  const cpu = mounts.find((m) => m.version === 1 && m.controllers.includes('cpuacct'));
  const memory = mounts.find((m) => m.version === 1 && m.controllers.includes('memory'));
  if (cpu && memory) return { version: 1, cpu, memory };
  const unified = mounts.find((m) => m.version === 2);
  return unified ? { version: 2, cpu: unified, memory: unified } : undefined;
}

/** Parses /proc/<pid>/cgroup: v1 controller -> path, and the v2 path ("0::/..."). */
export function parseProcCgroup(text: string): { v1: Map<string, string>; v2: string | undefined } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const cgroupPath = line.slice(second + 1);
    if (line.slice(0, first) === '0' && controllers === '') v2 = cgroupPath;
    else for (const c of controllers.split(',')) v1.set(c, cgroupPath);
  }
  return { v1, v2 };
}

/**
 * Candidate file sets for a container, best first: from its init pid's /proc/<pid>/cgroup when
 * given, then Docker's cgroupfs and systemd driver defaults. The caller keeps the first that opens.
 */
export function cgroupFileCandidates(layout: CgroupLayout, containerId: string, procCgroupText?: string): ContainerCgroupFiles[] {
  const relCpu: string[] = [];
  const relMemory: string[] = [];
  if (procCgroupText !== undefined) {
    const parsed = parseProcCgroup(procCgroupText);
    const cpuPath = layout.version === 1 ? parsed.v1.get('cpuacct') : parsed.v2;
    const memPath = layout.version === 1 ? parsed.v1.get('memory') : parsed.v2;
    if (cpuPath !== undefined && memPath !== undefined) {
      relCpu.push(cpuPath);
      relMemory.push(memPath);
    }
  }
  for (const guess of [`/docker/${containerId}`, `/system.slice/docker-${containerId}.scope`]) {
    relCpu.push(guess);
    relMemory.push(guess);
  }
  const seen = new Set<string>();
  const out: ContainerCgroupFiles[] = [];
  relCpu.forEach((cpuRel, i) => {
    const cpuDir = dirOnMount(layout.cpu, cpuRel);
    const memDir = dirOnMount(layout.memory, relMemory[i] ?? cpuRel);
    if (cpuDir === undefined || memDir === undefined || seen.has(cpuDir)) return;
    seen.add(cpuDir);
    out.push(
      layout.version === 1
        ? {
            version: 1,
            cpuUsage: path.join(cpuDir, 'cpuacct.usage'),
            memoryUsage: path.join(memDir, 'memory.usage_in_bytes'),
            memoryStat: path.join(memDir, 'memory.stat'),
          }
        : {
            version: 2,
            cpuUsage: path.join(cpuDir, 'cpu.stat'),
            memoryUsage: path.join(memDir, 'memory.current'),
            memoryStat: path.join(memDir, 'memory.stat'),
          },
    );
  });
  return out;
}

// A cgroup path as /proc/<pid>/cgroup shows it is relative to our cgroup namespace root, which is
// what the mount's root shows too; a path outside the mount ("/.." in a namespace) is unreachable.
function dirOnMount(mount: CgroupMount, cgroupPath: string): string | undefined {
  if (cgroupPath.startsWith('/..')) return undefined;
  let rel = cgroupPath;
  if (mount.root !== '/' && (rel === mount.root || rel.startsWith(`${mount.root}/`))) rel = rel.slice(mount.root.length);
  return path.join(mount.mountPoint, rel);
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

// One buffer for every read (memory.stat of v2 is ~2 KiB): reads allocate nothing.
const READ_BUFFER = Buffer.alloc(16 * 1024);
const V1_INACTIVE = Buffer.from('\ntotal_inactive_file ');
const V2_INACTIVE = Buffer.from('\ninactive_file ');
// First line of v2 cpu.stat; no other key contains it.
const V2_USAGE_USEC = Buffer.from('usage_usec ');

/**
 * Open descriptors on one container's cgroup files, re-read from offset 0 each sample (kernfs
 * regenerates the content on every read from 0), into a shared buffer: no path lookup, no
 * allocation per read. Reads are synchronous on purpose: a few µs each, cheaper than a
 * thread-pool round trip. A removed cgroup (container stopped) makes read() throw (ENODEV/ENOENT).
 */
export class CgroupReader {
  private fds: [number, number, number] | undefined;

  private constructor(readonly files: ContainerCgroupFiles) {}

  /** Opens the first candidate whose files all open and parse; undefined when none does. */
  static open(candidates: readonly ContainerCgroupFiles[]): CgroupReader | undefined {
    for (const files of candidates) {
      const reader = new CgroupReader(files);
      try {
        reader.fds = [openSync(files.cpuUsage, 'r'), -1, -1];
        reader.fds[1] = openSync(files.memoryUsage, 'r');
        reader.fds[2] = openSync(files.memoryStat, 'r');
        reader.read();
        return reader;
      } catch {
        reader.close();
      }
    }
    return undefined;
  }

  read(): CgroupCounters {
    if (!this.fds) throw new Error('cgroup reader is closed');
    const [cpuFd, memFd, statFd] = this.fds;
    let n = readSync(cpuFd, READ_BUFFER, 0, READ_BUFFER.length, 0);
    const cpuNs =
      this.files.version === 1 ? parseUint(READ_BUFFER, 0, n) : valueAfter(READ_BUFFER, n, V2_USAGE_USEC) * 1000;
    n = readSync(memFd, READ_BUFFER, 0, READ_BUFFER.length, 0);
    const usage = parseUint(READ_BUFFER, 0, n);
    n = readSync(statFd, READ_BUFFER, 0, READ_BUFFER.length, 0);
    const inactive = valueAfter(READ_BUFFER, n, this.files.version === 1 ? V1_INACTIVE : V2_INACTIVE);
    if (Number.isNaN(cpuNs) || Number.isNaN(usage)) throw new Error(`unreadable cgroup counters in ${this.files.cpuUsage}`);
    return { cpuNs, memoryBytes: Number.isNaN(inactive) || inactive > usage ? usage : usage - inactive };
  }

  close(): void {
    for (const fd of this.fds ?? []) {
      if (fd >= 0) {
        try {
          closeSync(fd);
        } catch {
          // already closed: nothing to release
        }
      }
    }
    this.fds = undefined;
  }
}

/** Digits from `start` up to the first non-digit (or `end`); NaN when there is none. */
export function parseUint(buf: Buffer, start: number, end: number): number {
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
    digits++;
  }
  return digits > 0 ? value : NaN;
}

/** The number after the first `key` in the first `length` bytes; NaN when absent. */
function valueAfter(buf: Buffer, length: number, key: Buffer): number {
  const at = buf.subarray(0, length).indexOf(key);
  return at < 0 ? NaN : parseUint(buf, at + key.length, length);
}

/** Mount table of this process, read once per sampler. */
export function readCgroupLayout(procRoot = '/proc'): CgroupLayout | undefined {
  try {
    return detectCgroupLayout(parseMountinfo(readFileSync(path.join(procRoot, 'self', 'mountinfo'), 'utf8')));
  } catch {
    return undefined;
  }
}
