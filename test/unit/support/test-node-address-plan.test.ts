// The test nodes' address plan: every slot and node gets names and ranges that collide with no
// other slot or node, with the host's networks, or with the limits of the kernel.
import { describe, expect, it } from 'vitest';
import { isPeerSubnet } from '../../../src/core/peer-address.js';
import {
  inSubnet,
  ipv4,
  ipv4ToNumber,
  MAX_NODES_PER_SLOT,
  MAX_SLOTS,
  nodePlan,
  slotPlan,
  type NodePlan,
} from '../../support/test-node/address-plan.js';

const IFNAMSIZ = 15;
const UNIX_SOCKET_PATH_MAX = 107;

function allNodes(): NodePlan[] {
  const nodes: NodePlan[] = [];
  for (let slot = 0; slot < MAX_SLOTS; slot++) for (let i = 0; i < MAX_NODES_PER_SLOT; i++) nodes.push(nodePlan(slot, i));
  return nodes;
}

function range(cidr: string): [number, number] {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipv4ToNumber(base!)!;
  return [start, start + size - 1];
}

function overlaps([a0, a1]: [number, number], [b0, b1]: [number, number]): boolean {
  return a0 <= b1 && b0 <= a1;
}

describe('test node address plan', () => {
  it('names slot 3 node 1 predictably', () => {
    expect(slotPlan(3)).toMatchObject({ switchNetns: 'autoserve-tn-3-sw', hostIface: 'astn3', hostAddress: '10.191.3.1', swarmPool: '10.195.0.0/16' });
    expect(nodePlan(3, 1)).toMatchObject({
      netns: 'autoserve-tn-3-1',
      address: '10.191.3.11',
      bip: '100.70.64.1/24',
      addressPool: { base: '10.131.32.0/19', size: 24 },
      cgroupParent: '/autoserve-tn-3-1',
      dockerSocket: '/run/autoserve-tn/3/1/docker.sock',
    });
  });

  it('gives every node of every slot ranges that overlap no other node, slot link, swarm pool or host network', () => {
    const nodes = allNodes();
    const hostNetworks = ['172.16.0.0/12', '192.168.0.0/16', '10.255.0.0/16', '127.0.0.0/8', '192.0.2.0/24'];
    const slotRanges = Array.from({ length: MAX_SLOTS }, (_, s) => [slotPlan(s).linkSubnet, slotPlan(s).swarmPool]).flat();
    const nodeRanges = nodes.flatMap((n) => [n.bip.replace(/\.1\/24$/, '.0/24'), n.addressPool.base]);
    const all = [...slotRanges, ...nodeRanges];
    const ranges = all.map(range);
    const collisions: string[] = [];
    for (let i = 0; i < all.length; i++) {
      for (const host of hostNetworks) if (overlaps(ranges[i]!, range(host))) collisions.push(`${all[i]} vs host ${host}`);
      for (let j = i + 1; j < all.length; j++) if (overlaps(ranges[i]!, ranges[j]!)) collisions.push(`${all[i]} vs ${all[j]}`);
    }
    expect(all).toHaveLength(2 * MAX_SLOTS + 2 * MAX_SLOTS * MAX_NODES_PER_SLOT);
    expect(collisions).toEqual([]);
  });

  it('gives every engine a private pool for local networks: AutoServe refuses a replica network outside the private ranges', () => {
    for (const n of allNodes()) expect(isPeerSubnet(n.addressPool.base), n.addressPool.base).toBe(true);
  });

  it('keeps node addresses inside their slot link and distinct', () => {
    const nodes = allNodes();
    expect(new Set(nodes.map((n) => n.address)).size).toBe(nodes.length);
    for (const n of nodes) expect(inSubnet(n.address, slotPlan(n.slot).linkSubnet)).toBe(true);
  });

  it('fits interface names and socket paths into the kernel limits', () => {
    for (let s = 0; s < MAX_SLOTS; s++) expect(slotPlan(s).hostIface.length).toBeLessThanOrEqual(IFNAMSIZ);
    for (const n of allNodes()) {
      expect(n.switchPort.length).toBeLessThanOrEqual(IFNAMSIZ);
      expect(`${n.containerdSocket}.ttrpc`.length).toBeLessThanOrEqual(UNIX_SOCKET_PATH_MAX);
    }
  });

  it('rejects slots and nodes out of range', () => {
    expect(() => slotPlan(MAX_SLOTS)).toThrow(RangeError);
    expect(() => nodePlan(0, MAX_NODES_PER_SLOT)).toThrow(RangeError);
    expect(() => nodePlan(-1, 0)).toThrow(RangeError);
  });

  it('converts addresses both ways', () => {
    expect(ipv4(ipv4ToNumber('100.127.255.254')!)).toBe('100.127.255.254');
    expect(inSubnet('10.192.1.7', '10.192.0.0/16')).toBe(true);
    expect(inSubnet('10.193.1.7', '10.192.0.0/16')).toBe(false);
  });
});
