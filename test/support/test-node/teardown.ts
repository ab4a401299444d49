// Tears a test node or slot down completely, from what is on disk and in the kernel (not from
// in-memory handles), so the same code cleans up after a failed test and sweeps leftovers of a
// crashed run: every process of the node, every mount under its roots, its shim sockets, cgroups,
// directories and namespaces. Killing is deliberate (no graceful stop): the node's data is
// deleted anyway, and a graceful stop with live-restore would leave the containers running.
import { readdir, readFile, readlink, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { nodePlan, slotPlan, MAX_NODES_PER_SLOT, type NodePlan } from './address-plan.js';
import { enginePaths, readPid } from './engine.js';
import { deleteHostLink, deleteNetns, netnsInode, pidsInNetns, runCommand } from './netns.js';
import { isRunning, signalProcess, sleep } from './processes.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const KILL_ROUNDS = 20;

/** Removes a slot: all its nodes, the switch namespace, the host link, its directories. Idempotent. */
export async function destroySlot(slot: number): Promise<void> {
  const plan = slotPlan(slot);
  const errors: unknown[] = [];
  for (let index = 0; index < MAX_NODES_PER_SLOT; index++) {
    await destroyNode(nodePlan(slot, index)).catch((err: unknown) => errors.push(err));
  }
  for (const step of [
    () => deleteHostLink(plan.hostIface),
    () => deleteNetns(plan.switchNetns),
    () => rm(plan.dataDir, { recursive: true, force: true }),
    // Last: the run directory is the slot's claim (slot-registry.ts).
    () => rm(plan.runDir, { recursive: true, force: true }),
  ]) {
    await step().catch((err: unknown) => errors.push(err));
  }
  if (errors.length) throw new AggregateError(errors, `teardown of test node slot ${slot} incomplete`);
}

/** Removes one node; a node that never existed (or is half made) is fine. */
export async function destroyNode(plan: NodePlan): Promise<void> {
  await killNodeProcesses(plan);
  await unmountUnder([plan.dataDir, plan.runDir]);
  await removeShimSockets(plan);
  await rm(plan.dataDir, { recursive: true, force: true });
  await rm(plan.runDir, { recursive: true, force: true });
  await removeCgroups(plan.cgroupParent);
  await deleteNetns(plan.netns);
}

/**
 * SIGKILLs every process in the node's namespace (dockerd, containerd, shims, docker-proxy, and
 * whatever a test ran there) and in its containers' cgroups, until none is left. dockerd and
 * containerd go first so they restart nothing meanwhile.
 */
export async function killNodeProcesses(plan: NodePlan): Promise<void> {
  const paths = enginePaths(plan);
  for (const file of [paths.dockerdPidFile, paths.containerdPidFile]) {
    const pid = await readPid(file);
    if (pid !== undefined && (await belongsToNode(pid, plan))) signalProcess(pid, 'SIGKILL');
  }
  const inode = await netnsInode(plan.netns);
  for (let round = 0; round < KILL_ROUNDS; round++) {
    const pids = new Set([...(inode === undefined ? [] : await pidsInNetns(inode)), ...(await cgroupPids(plan.cgroupParent))]);
    const alive = [];
    for (const pid of pids) if (await isRunning(pid)) alive.push(pid);
    if (alive.length === 0) return;
    for (const pid of alive) signalProcess(pid, 'SIGKILL');
    await sleep(100);
  }
  throw new Error(`processes of ${plan.netns} survive SIGKILL`);
}

/** A pid file may be stale and its pid reused: only kill a process that is in the node's namespace. */
async function belongsToNode(pid: number, plan: NodePlan): Promise<boolean> {
  const inode = await netnsInode(plan.netns);
  if (inode === undefined) return false;
  return (await readlink(`/proc/${pid}/ns/net`).catch(() => '')) === `net:[${inode}]`;
}

/** Pids in every cgroup hierarchy under the node's cgroup parent (cgroup v1 and v2). */
async function cgroupPids(cgroupParent: string): Promise<number[]> {
  const pids: number[] = [];
  for (const dir of await cgroupDirs(cgroupParent)) {
    for (const sub of await walkDirs(dir)) {
      const text = await readFile(join(sub, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const line of text.split('\n')) if (line.trim()) pids.push(Number(line));
    }
  }
  return pids;
}

async function removeCgroups(cgroupParent: string): Promise<void> {
  for (const dir of await cgroupDirs(cgroupParent)) {
    // Deepest first: a cgroup directory can only be removed once it has no children.
    for (const sub of (await walkDirs(dir)).reverse()) await rmdir(sub).catch(() => undefined);
  }
}

/** The node's cgroup parent in each mounted hierarchy: /sys/fs/cgroup/<controller>/<parent> (v1) and /sys/fs/cgroup/<parent> (v2). */
async function cgroupDirs(cgroupParent: string): Promise<string[]> {
  const candidates = [join(CGROUP_ROOT, cgroupParent)];
  for (const entry of await readdir(CGROUP_ROOT).catch(() => [])) candidates.push(join(CGROUP_ROOT, entry, cgroupParent));
  const found: string[] = [];
  for (const dir of candidates) if ((await readdir(dir).catch(() => undefined)) !== undefined) found.push(dir);
  return found;
}

/** The directory and its subdirectories, parents before children. */
async function walkDirs(dir: string): Promise<string[]> {
  const out = [dir];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) out.push(...(await walkDirs(join(dir, entry.name))));
  }
  return out;
}

/** Lazily unmounts every mount point under the given roots, deepest first (overlays, netns bind mounts, shm). */
export async function unmountUnder(roots: string[]): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(decodeMountPath)
    .filter((p) => roots.some((root) => p === root || p.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of points) await runCommand(['umount', '--lazy', point]).catch(() => undefined);
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040). */
function decodeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * containerd's shims listen on sockets in a directory shared by every containerd on the host
 * (/run/containerd/s/...); a killed shim leaves its socket there. Each task's bundle records the
 * address: remove exactly those.
 */
async function removeShimSockets(plan: NodePlan): Promise<void> {
  const tasks = join(enginePaths(plan).containerdState, 'io.containerd.runtime.v2.task');
  for (const namespace of await readdir(tasks).catch(() => [])) {
    for (const id of await readdir(join(tasks, namespace)).catch(() => [])) {
      const address = (await readFile(join(tasks, namespace, id, 'address'), 'utf8').catch(() => '')).trim();
      const path = address.replace(/^unix:\/\//, '');
      if (path.startsWith('/run/containerd/s/')) await unlink(path).catch(() => undefined);
    }
  }
}
