// Placement: Swarm's constraint matching, and the spread of an app's replicas over eligible nodes.
import { describe, expect, it } from 'vitest';
import { eligibleNodes, satisfies, spreadConstraints } from '../../../../src/runtime/swarm/placement.js';
import type { SwarmNode } from '../../../../src/runtime/swarm/swarm-objects.js';
import { seededRandom } from '../../../../src/sim/synthetic-traces.js';
import { node } from './swarm-fixtures.js';

const zoneA = node('n1', { role: 'manager', labels: { zone: 'a' }, hostname: 'alpha' });
const zoneB = node('n2', { labels: { zone: 'b' } });

describe('satisfies (swarmkit constraint rules)', () => {
  it.each([
    ['node.role==manager', zoneA, true],
    ['node.role==manager', zoneB, false],
    ['node.role!=manager', zoneB, true],
    ['node.labels.zone==a', zoneA, true],
    ['node.labels.zone==A', zoneA, true], // values compare without case
    ['node.labels.zone!=a', zoneB, true],
    ['node.labels.missing==x', zoneA, false], // a missing label never equals
    ['node.labels.missing!=x', zoneA, true],
    ['node.hostname==alpha', zoneA, true],
    ['node.id==n2', zoneB, true],
    ['node.platform.os==linux', zoneA, true],
    ['node.platform.arch==arm64', zoneA, false],
    ['engine.labels.disk==ssd', zoneA, false],
    ['node.labels.zone = a', zoneA, false], // not an expression
  ] as [string, SwarmNode, boolean][])('%s', (constraint, n, expected) => {
    expect(satisfies(n, constraint)).toBe(expected);
  });

  it('eligible nodes are ready, active and satisfy every constraint', () => {
    const nodes = [zoneA, zoneB, node('n3', { state: 'down', labels: { zone: 'a' } }), node('n4', { availability: 'drain', labels: { zone: 'a' } })];
    expect(eligibleNodes(nodes, []).map((n) => n.ID)).toEqual(['n1', 'n2']);
    expect(eligibleNodes(nodes, ['node.labels.zone==a']).map((n) => n.ID)).toEqual(['n1']);
  });
});

describe('spreadConstraints', () => {
  const three = [node('n1'), node('n2'), node('n3')];
  it.each([
    { name: 'nothing runs yet: no exclusion', app: [], out: [] },
    { name: 'one node has one: it is excluded', app: ['n1'], out: ['node.id!=n1'] },
    { name: 'even: no exclusion', app: ['n1', 'n2', 'n3'], out: [] },
    { name: 'two nodes ahead: both excluded', app: ['n1', 'n2', 'n1', 'n2', 'n3'], out: ['node.id!=n1', 'node.id!=n2'] },
    { name: 'replicas on a node that is not eligible count for nothing', app: ['gone', 'gone'], out: [] },
  ])('$name', ({ app, out }) => {
    expect(spreadConstraints(three, [], app)).toEqual(out);
  });

  it('only eligible nodes are compared; fewer than two: nothing to spread over', () => {
    expect(spreadConstraints([...three, node('n4', { state: 'down' })], [], ['n1', 'n2', 'n3'])).toEqual([]);
    expect(spreadConstraints(three, ['node.id==n1'], ['n1', 'n1'])).toEqual([]);
    expect(spreadConstraints([node('n1', { labels: { zone: 'a' } }), node('n2', { labels: { zone: 'a' } }), node('n3')], ['node.labels.zone==a'], ['n1', 'n3', 'n3'])).toEqual([
      'node.id!=n1',
    ]);
  });

  it('property: a replica may always go somewhere eligible, only to a least loaded node, and placing each there keeps counts within one', () => {
    const random = seededRandom(16);
    for (let world = 0; world < 300; world++) {
      const nodes = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) =>
        node(`n${i}`, { state: random() < 0.2 ? 'down' : 'ready', labels: { zone: random() < 0.5 ? 'a' : 'b' } }),
      );
      const constraints = random() < 0.3 ? ['node.labels.zone==a'] : [];
      const eligible = eligibleNodes(nodes, constraints).map((n) => n.ID);
      const placed: string[] = [];
      for (let replica = 0; replica < 12 && eligible.length > 0; replica++) {
        const excluded = new Set(spreadConstraints(nodes, constraints, placed).map((c) => c.replace('node.id!=', '')));
        const allowed = eligible.filter((id) => !excluded.has(id));
        expect(allowed.length).toBeGreaterThan(0);
        const counts = eligible.map((id) => placed.filter((p) => p === id).length);
        for (const id of allowed) expect(placed.filter((p) => p === id).length).toBe(Math.min(...counts));
        placed.push(allowed[Math.floor(random() * allowed.length)]!);
        const after = eligible.map((id) => placed.filter((p) => p === id).length);
        expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
      }
    }
  });
});
