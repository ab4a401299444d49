// Network namespaces and links of test nodes, made with iproute2.
//
// Layout of a slot: the host's interface (IFACE_PREFIX<slot>, the slot's host address) is a veth
// into the slot's switch namespace, where a bridge joins it with one veth per node namespace. The
// bridge lives in its own namespace on purpose: the host runs dockerd, whose FORWARD policy is
// DROP, and bridged frames pass the iptables of the bridge's namespace (br_netfilter), so a bridge
// on the host would drop node-to-node traffic unless we added host firewall rules. The switch
// namespace has no rules at all. Nodes have no default route: nothing they send can leave the
// machine (a Swarm agent's registry lookup fails at once with "network is unreachable").
//
// Commands run in a namespace through `nsenter --net=/run/netns/NAME` (not `ip netns exec`, which
// also remounts /sys in a new mount namespace: dockerd started that way sees the wrong /sys).
import { readdir, readlink, stat } from 'node:fs/promises';
import { execa } from 'execa';
import type { NodePlan, SlotPlan } from './address-plan.js';

export const NETNS_DIR = '/run/netns';
const COMMAND_TIMEOUT_MS = 30_000;

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** The argv prefix that runs a command in the named network namespace (same mount namespace). */
export function nsenterArgs(netns: string): string[] {
  return ['nsenter', `--net=${netnsPath(netns)}`];
}

/** Runs a command (optionally in a network namespace); resolves with stdout, rejects with stderr in the message. */
export async function runCommand(argv: string[], options: { netns?: string; input?: string } = {}): Promise<string> {
  const full = options.netns ? [...nsenterArgs(options.netns), ...argv] : argv;
  const [file, ...args] = full;
  if (!file) throw new Error('runCommand: empty argv');
  const result = await execa(file, args, {
    reject: false,
    timeout: COMMAND_TIMEOUT_MS,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
  });
  if (result.exitCode !== 0 || result.failed) {
    const detail = (result.stderr || result.stdout || result.message || '').trim();
    throw new Error(`${full.join(' ')} failed (exit ${result.exitCode ?? result.signal}): ${detail}`);
  }
  return result.stdout;
}

/** Creates the switch namespace with its bridge and the host's veth into it. */
export async function createSlotNetwork(plan: SlotPlan): Promise<void> {
  await runCommand(['ip', 'netns', 'add', plan.switchNetns]);
  const sw = { netns: plan.switchNetns };
  await runCommand(['ip', 'link', 'set', 'lo', 'up'], sw);
  await runCommand(['ip', 'link', 'add', 'br0', 'type', 'bridge'], sw);
  await runCommand(['ip', 'link', 'set', 'br0', 'up'], sw);
  await runCommand(['ip', 'link', 'add', plan.hostIface, 'type', 'veth', 'peer', 'name', 'up0', 'netns', plan.switchNetns]);
  await runCommand(['ip', 'link', 'set', 'up0', 'master', 'br0'], sw);
  await runCommand(['ip', 'link', 'set', 'up0', 'up'], sw);
  await runCommand(['ip', 'addr', 'add', `${plan.hostAddress}/24`, 'dev', plan.hostIface]);
  await runCommand(['ip', 'link', 'set', plan.hostIface, 'up']);
}

/** Creates a node's namespace, plugged into the slot's bridge, with forwarding on (see below). */
export async function createNodeNetwork(slot: SlotPlan, node: NodePlan): Promise<void> {
  await runCommand(['ip', 'netns', 'add', node.netns]);
  const sw = { netns: slot.switchNetns };
  const ns = { netns: node.netns };
  await runCommand(['ip', 'link', 'add', node.switchPort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns], sw);
  await runCommand(['ip', 'link', 'set', node.switchPort, 'master', 'br0'], sw);
  await runCommand(['ip', 'link', 'set', node.switchPort, 'up'], sw);
  await runCommand(['ip', 'link', 'set', 'lo', 'up'], ns);
  await runCommand(['ip', 'addr', 'add', `${node.address}/${node.prefixLength}`, 'dev', 'eth0'], ns);
  await runCommand(['ip', 'link', 'set', 'eth0', 'up'], ns);
  // Forwarding on before dockerd starts: dockerd then leaves the FORWARD policy at ACCEPT (it sets
  // DROP only when it had to turn forwarding on itself), so a route to a container network through
  // the node works the way it does on a plain Debian host with forwarding enabled.
  await runCommand(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], ns);
}

/** The inode of a named namespace, to recognise processes inside it ("net:[inode]"). */
export async function netnsInode(name: string): Promise<number | undefined> {
  try {
    return (await stat(netnsPath(name))).ino;
  } catch {
    return undefined;
  }
}

/** Pids of processes whose network namespace is the given inode. */
export async function pidsInNetns(inode: number): Promise<number[]> {
  const wanted = `net:[${inode}]`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const link = await readlink(`/proc/${entry}/ns/net`).catch(() => undefined);
    if (link === wanted) pids.push(Number(entry));
  }
  return pids;
}

/** Deletes a named namespace (its interfaces go with it once no process holds it); missing is fine. */
export async function deleteNetns(name: string): Promise<void> {
  if ((await netnsInode(name)) === undefined) return;
  await runCommand(['ip', 'netns', 'delete', name]);
}

/** Deletes a host interface now (a veth whose peer's namespace is gone vanishes only later); missing is fine. */
export async function deleteHostLink(name: string): Promise<void> {
  const exists = await runCommand(['ip', '-o', 'link', 'show', 'dev', name]).then(
    () => true,
    () => false,
  );
  if (exists) await runCommand(['ip', 'link', 'delete', name]).catch(() => undefined);
}

/** Names of network namespaces in /run/netns (for the sweep). */
export async function listNetns(): Promise<string[]> {
  return readdir(NETNS_DIR).catch(() => []);
}
