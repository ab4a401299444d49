// Claims slots for test clusters so that concurrent runs (other test files, other worktrees on the
// same machine) never share names or addresses, and finds the leftovers of crashed runs.
//
// A slot is claimed by creating its run directory (mkdir is atomic: exactly one claimant wins) and
// writing owner.json into it: the owning process (pid and start time, which together survive pid
// reuse) or `keep` for clusters made from the command line, which only an explicit `down` removes.
// A slot whose owner is dead is stale; so is anything with the name prefix whose slot has no
// claim (a data directory after a reboot, a namespace or link whose claim was removed).
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DATA_ROOT, IFACE_PREFIX, MAX_SLOTS, NAME_PREFIX, RUN_ROOT, slotPlan } from './address-plan.js';
import { listNetns, runCommand } from './netns.js';
import { processStartTime, sleep } from './processes.js';
import { destroySlot } from './teardown.js';

/** A claim without owner.json younger than this is still being made. */
const CLAIM_GRACE_MS = 60_000;

export interface SlotOwner {
  pid: number;
  startTime: number;
  /** Made by the CLI: never swept, only removed by `down`. */
  keep: boolean;
  /** Free text: which test or command made it. */
  purpose: string;
  createdAt: string;
}

export interface SlotClaim {
  slot: number;
  owner: SlotOwner | undefined;
  stale: boolean;
}

/** Claims the lowest free slot for this process. */
export async function claimSlot(purpose: string, options: { keep?: boolean } = {}): Promise<number> {
  const owner = await currentOwner(purpose, options.keep ?? false);
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    if (await tryClaim(slot, owner)) return slot;
  }
  throw new Error(`all ${MAX_SLOTS} test node slots are taken (see ${RUN_ROOT}/*/owner.json; \`scripts/test-node.sh sweep\` removes stale ones)`);
}

async function currentOwner(purpose: string, keep: boolean): Promise<SlotOwner> {
  return { pid: process.pid, startTime: (await processStartTime(process.pid)) ?? 0, keep, purpose, createdAt: new Date().toISOString() };
}

/** mkdir of the slot's run directory is the claim: true if this call made it. */
async function tryClaim(slot: number, owner: SlotOwner): Promise<boolean> {
  await mkdir(RUN_ROOT, { recursive: true });
  const dir = slotPlan(slot).runDir;
  try {
    await mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  await writeFile(join(dir, 'owner.json'), `${JSON.stringify(owner, null, 2)}\n`);
  return true;
}

/** Every claimed slot with its owner and whether it is stale. */
export async function listClaims(): Promise<SlotClaim[]> {
  const claims: SlotClaim[] = [];
  for (const entry of await readdir(RUN_ROOT).catch(() => [])) {
    if (!/^\d+$/.test(entry) || Number(entry) >= MAX_SLOTS) continue;
    const slot = Number(entry);
    const owner = await readOwner(slot);
    claims.push({ slot, owner, stale: await isStale(slot, owner) });
  }
  return claims.sort((a, b) => a.slot - b.slot);
}

/**
 * Removes stale slots and unclaimed leftovers (by name prefix); returns the slots it removed.
 * `all` also removes slots whose owner lives, kept ones included: only for a machine where no test
 * runs. Sweeps take a lock, so two sweepers never tear down a slot that a third process claimed in
 * between; a leftover without a claim is claimed by the sweeper before it is torn down.
 */
export async function sweepSlots(options: { all?: boolean } = {}): Promise<number[]> {
  return withSweepLock(async () => {
    const swept: number[] = [];
    for (const claim of await listClaims()) {
      if (!options.all && !claim.stale) continue;
      await destroySlot(claim.slot);
      swept.push(claim.slot);
    }
    const sweeper = await currentOwner('sweep', false);
    for (const slot of await unclaimedLeftovers()) {
      if (!(await tryClaim(slot, sweeper))) continue;
      await destroySlot(slot);
      swept.push(slot);
    }
    return swept.sort((a, b) => a - b);
  });
}

const SWEEP_LOCK = join(RUN_ROOT, 'sweep.lock');
const SWEEP_LOCK_WAIT_MS = 120_000;

async function withSweepLock<T>(fn: () => Promise<T>): Promise<T> {
  await mkdir(RUN_ROOT, { recursive: true });
  const deadline = Date.now() + SWEEP_LOCK_WAIT_MS;
  const me = await currentOwner('sweep', false);
  for (;;) {
    try {
      await mkdir(SWEEP_LOCK);
      await writeFile(join(SWEEP_LOCK, 'owner.json'), JSON.stringify(me));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readJson<SlotOwner>(join(SWEEP_LOCK, 'owner.json'));
    const lockAge = await stat(SWEEP_LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
    const holderDead = holder ? (await processStartTime(holder.pid)) !== holder.startTime : lockAge > CLAIM_GRACE_MS;
    if (holderDead) await rm(SWEEP_LOCK, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`test node sweep lock ${SWEEP_LOCK} held by pid ${holder?.pid}`);
    else await sleep(100);
  }
  try {
    return await fn();
  } finally {
    await rm(SWEEP_LOCK, { recursive: true, force: true });
  }
}

async function readOwner(slot: number): Promise<SlotOwner | undefined> {
  return readJson<SlotOwner>(join(slotPlan(slot).runDir, 'owner.json'));
}

async function readJson<T>(file: string): Promise<T | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

async function isStale(slot: number, owner: SlotOwner | undefined): Promise<boolean> {
  if (owner === undefined) {
    const claimedAt = await stat(slotPlan(slot).runDir).then((s) => s.mtimeMs, () => 0);
    return Date.now() - claimedAt > CLAIM_GRACE_MS;
  }
  if (owner.keep) return false;
  return (await processStartTime(owner.pid)) !== owner.startTime;
}

/** Slots that have namespaces, host links or data directories but no claim. */
async function unclaimedLeftovers(): Promise<number[]> {
  const slots = new Set<number>();
  const netnsPattern = new RegExp(`^${NAME_PREFIX}-(\\d+)-`);
  for (const name of await listNetns()) {
    const match = netnsPattern.exec(name);
    if (match) slots.add(Number(match[1]));
  }
  const links = await runCommand(['ip', '-o', 'link', 'show']).catch(() => '');
  const linkPattern = new RegExp(`^\\d+: ${IFACE_PREFIX}(\\d+)[@:]`);
  for (const line of links.split('\n')) {
    const match = linkPattern.exec(line);
    if (match) slots.add(Number(match[1]));
  }
  for (const entry of await readdir(DATA_ROOT).catch(() => [])) if (/^\d+$/.test(entry)) slots.add(Number(entry));
  const claimed = new Set((await readdir(RUN_ROOT).catch(() => [])).filter((e) => /^\d+$/.test(e)).map(Number));
  return [...slots].filter((slot) => slot < MAX_SLOTS && !claimed.has(slot));
}
