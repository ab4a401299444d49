// What the Swarm watcher tells an app when its replicas changed between two listings.
import { describe, expect, it } from 'vitest';
import type { ReplicaFacts } from '../../../../src/core/replica.js';
import { changeOf } from '../../../../src/runtime/swarm/watch.js';

function replica(id: string, over: Partial<ReplicaFacts> = {}): ReplicaFacts {
  return {
    id,
    name: `autoserve-web-rev-${id}`,
    app: 'web',
    revision: 'rev',
    slot: 0,
    image: 'img',
    state: 'running',
    running: true,
    createdAtMs: 0,
    addresses: { 8080: { host: '10.0.0.2', port: 8080 } },
    published: {},
    labels: {},
    ...over,
  };
}
const listing = (...rs: ReplicaFacts[]) => new Map(rs.map((r) => [r.id, r]));

describe('changeOf', () => {
  it.each([
    { name: 'nothing changed', before: listing(replica('a')), after: listing(replica('a')), action: undefined },
    { name: 'a replica stopped', before: listing(replica('a')), after: listing(replica('a', { running: false, state: 'shutdown', addresses: {} })), action: 'die' },
    { name: 'its node went down (address gone)', before: listing(replica('a')), after: listing(replica('a', { addresses: {} })), action: 'die' },
    { name: 'a task started', before: listing(replica('a', { state: 'starting', addresses: {} })), after: listing(replica('a')), action: 'start' },
    { name: 'a task moved to another address', before: listing(replica('a')), after: listing(replica('a', { addresses: { 8080: { host: '10.0.0.9', port: 8080 } } })), action: 'start' },
    { name: 'a replica was removed', before: listing(replica('a'), replica('b')), after: listing(replica('a')), action: 'destroy' },
    { name: 'a replica was created', before: listing(), after: listing(replica('a', { running: false, state: 'created', addresses: {} })), action: 'create' },
    { name: 'a state change without a new address', before: listing(replica('a', { state: 'pending', addresses: {} })), after: listing(replica('a', { state: 'starting', addresses: {} })), action: 'update' },
    { name: 'a die outranks a create', before: listing(replica('a')), after: listing(replica('a', { running: false, addresses: {} }), replica('b')), action: 'die' },
  ])('$name: $action', ({ before, after, action }) => {
    expect(changeOf(before, after)).toBe(action);
  });
});
