// The names, paths and address ranges of test nodes, all computed from (slot, node index).
//
// A slot is one cluster of test nodes (a switch namespace with a bridge, and up to
// MAX_NODES_PER_SLOT nodes, each a network namespace with its own containerd and dockerd). Slots
// are claimed by creating their run directory (see slot-registry.ts), so concurrent test runs
// never get the same names or addresses. Everything carries a recognisable prefix so a sweep can
// find leftovers of crashed runs: NAME_PREFIX for namespaces, directories and cgroups, IFACE_PREFIX
// for the host's interface (Linux limits interface names to 15 bytes).
//
// Ranges (none overlaps another, the host's docker0 172.17/16, Docker's default pools
// 172.17-31/16 and 192.168/16, or 10.255/16 where the host's resolver may live):
//   10.191.<slot>.0/24         the slot's link: host 10.191.<slot>.1, node i 10.191.<slot>.(10+i)
//   100.64.0.0/10              node blocks: one /18 per (slot, node); its first /24 is docker0 (--bip)
//   10.(128+<slot>).0.0/16     the slot's local network pools: one /19 per node (/24 per network;
//                              private, as AutoServe requires of the networks its replicas join)
//   10.(192+<slot>).0.0/16     the slot's Swarm overlay pool (/24 per overlay network)
import { join } from 'node:path';
export { inSubnet, ipv4ToNumber } from '../../../src/core/peer-address.js';

export const NAME_PREFIX = 'autoserve-tn';
export const IFACE_PREFIX = 'astn';
export const MAX_SLOTS = 32;
export const MAX_NODES_PER_SLOT = 8;

/** Run-time state (sockets, pid files, exec roots): tmpfs, so a reboot clears it with the namespaces. */
export const RUN_ROOT = `/run/${NAME_PREFIX}`;
/** Engine data roots (image layers, container state): on disk, swept when their slot is gone. */
export const DATA_ROOT = `/var/lib/${NAME_PREFIX}`;

const LINK_NET = [10, 191] as const;
const NODE_HOST_OFFSET = 10;
const NODE_BLOCK_BASE = (100 << 24) | (64 << 16); // 100.64.0.0
const NODE_BLOCK_BITS = 14; // a /18 per node
const SWARM_POOL_SECOND_OCTET = 192;
const LOCAL_POOL_SECOND_OCTET = 128;
const LOCAL_POOL_BITS = 13; // a /19 per node
export const SWARM_POOL_MASK_LENGTH = 24;

export interface SlotPlan {
  slot: number;
  /** Network namespace that holds the slot's bridge (its iptables are empty: no host firewall in the path). */
  switchNetns: string;
  /** The host's end of the veth into the switch namespace. */
  hostIface: string;
  /** The host's address on the slot's link, e.g. 10.191.3.1. */
  hostAddress: string;
  /** The slot's link subnet, e.g. 10.191.3.0/24. */
  linkSubnet: string;
  /** Address pool for Swarm overlay networks (`swarm init --default-addr-pool`). */
  swarmPool: string;
  runDir: string;
  dataDir: string;
}

export interface NodePlan {
  slot: number;
  index: number;
  netns: string;
  /** The switch namespace's end of the node's veth. */
  switchPort: string;
  /** The node's address on the slot's link; the host reaches the node here. */
  address: string;
  prefixLength: number;
  /** docker0 of the node's engine (dockerd --bip). */
  bip: string;
  /** The engine's pool for local networks (dockerd --default-address-pool). */
  addressPool: { base: string; size: number };
  /** Absolute cgroup parent of the node's containers: the sweep finds their processes there. */
  cgroupParent: string;
  /** Exec root, sockets, pid files, configs and logs. */
  runDir: string;
  /** Engine and containerd data. */
  dataDir: string;
  dockerSocket: string;
  containerdSocket: string;
}

export function slotPlan(slot: number): SlotPlan {
  assertSlot(slot);
  return {
    slot,
    switchNetns: `${NAME_PREFIX}-${slot}-sw`,
    hostIface: `${IFACE_PREFIX}${slot}`,
    hostAddress: `${LINK_NET[0]}.${LINK_NET[1]}.${slot}.1`,
    linkSubnet: `${LINK_NET[0]}.${LINK_NET[1]}.${slot}.0/24`,
    swarmPool: `10.${SWARM_POOL_SECOND_OCTET + slot}.0.0/16`,
    runDir: join(RUN_ROOT, String(slot)),
    dataDir: join(DATA_ROOT, String(slot)),
  };
}

export function nodePlan(slot: number, index: number): NodePlan {
  const s = slotPlan(slot);
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NODES_PER_SLOT) {
    throw new RangeError(`node index ${index} out of range 0..${MAX_NODES_PER_SLOT - 1}`);
  }
  const block = NODE_BLOCK_BASE + ((slot * MAX_NODES_PER_SLOT + index) << NODE_BLOCK_BITS);
  const runDir = join(s.runDir, String(index));
  return {
    slot,
    index,
    netns: `${NAME_PREFIX}-${slot}-${index}`,
    switchPort: `n${index}`,
    address: `${LINK_NET[0]}.${LINK_NET[1]}.${slot}.${NODE_HOST_OFFSET + index}`,
    prefixLength: 24,
    bip: `${ipv4(block + 1)}/24`,
    addressPool: { base: `${ipv4(((10 << 24) | ((LOCAL_POOL_SECOND_OCTET + slot) << 16)) + (index << LOCAL_POOL_BITS))}/${32 - LOCAL_POOL_BITS}`, size: 24 },
    cgroupParent: `/${NAME_PREFIX}-${slot}-${index}`,
    runDir,
    dataDir: join(s.dataDir, String(index)),
    dockerSocket: join(runDir, 'docker.sock'),
    containerdSocket: join(runDir, 'containerd.sock'),
  };
}

/** The unsigned 32-bit value as a dotted quad. */
export function ipv4(value: number): string {
  const v = value >>> 0;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

function assertSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) {
    throw new RangeError(`test node slot ${slot} out of range 0..${MAX_SLOTS - 1}`);
  }
}
