// A replica's facts from its service, tasks and the nodes: which task is current, when it counts
// as running, when it has an address, and which task was lost with a node.
import { describe, expect, it } from 'vitest';
import { replicaFactsOf, taskPlacementOf } from '../../../../src/runtime/swarm/replica-facts.js';
import type { SwarmNode, SwarmTask } from '../../../../src/runtime/swarm/swarm-objects.js';
import { NETWORK, node, service, task } from './swarm-fixtures.js';

const nodes = (...list: SwarmNode[]) => new Map(list.map((n) => [n.ID, n]));
const facts = (tasks: SwarmTask[], view = nodes(node('n1'), node('n2'))) => replicaFactsOf(service('s1'), tasks, { network: NETWORK, nodes: view });

describe('replicaFactsOf', () => {
  it('a running task on a ready node: running, its overlay address for every port (as a container\'s on one host), the overlay as its network, nothing published, the node, labels and image', () => {
    const f = facts([task('s1', { node: 'n1', ip: '10.0.1.5' })]);
    expect(f).toMatchObject({
      id: 's1',
      name: 'autoserve-web-rev1-0',
      app: 'web',
      revision: 'rev1',
      slot: 0,
      image: 'img:v1',
      state: 'running',
      running: true,
      addresses: { 8080: { host: '10.0.1.5', port: 8080 }, 9090: { host: '10.0.1.5', port: 9090 } },
      published: {},
      network: NETWORK,
      node: { nodeId: 'n1', node: 'host-n1' },
      createdAtMs: Date.parse('2024-05-01T10:00:00.000Z'),
    });
    expect(f.lostWith).toBeUndefined();
  });

  const rows: { name: string; tasks: SwarmTask[]; view?: ReturnType<typeof nodes>; running: boolean; state: string; addressed: boolean }[] = [
    { name: 'no task yet (created, not started)', tasks: [], running: false, state: 'created', addressed: false },
    { name: 'a task being brought up is running (Swarm starts it), without an address', tasks: [task('s1', { node: 'n1', state: 'starting' })], running: true, state: 'starting', addressed: false },
    { name: 'a restart waiting in "ready" counts as running', tasks: [task('s1', { node: 'n1', state: 'failed', desired: 'shutdown', at: '2024-05-01T10:00:01Z' }), task('s1', { node: 'n1', state: 'pending', desired: 'ready', at: '2024-05-01T10:00:02Z' })], running: true, state: 'pending', addressed: false },
    { name: 'no task wanted any more (stopped): not running, Swarm\'s word', tasks: [task('s1', { node: 'n1', state: 'shutdown', desired: 'shutdown' })], running: false, state: 'shutdown', addressed: false },
    { name: 'Swarm gave up restarting: not running, with its error', tasks: [task('s1', { node: 'n1', state: 'failed', desired: 'shutdown', err: 'task: non-zero exit (1)' })], running: false, state: 'failed: task: non-zero exit (1)', addressed: false },
    { name: 'no node satisfies its constraints: not running (the controller replaces it)', tasks: [task('s1', { state: 'pending', err: 'no suitable node (scheduling constraints not satisfied on 2 nodes)' })], running: false, state: 'pending: no suitable node (scheduling constraints not satisfied on 2 nodes)', addressed: false },
    { name: 'running on a node that is down: no address (out of nginx before any probe fails)', tasks: [task('s1', { node: 'n1', ip: '10.0.1.5' })], view: nodes(node('n1', { state: 'down' }), node('n2')), running: true, state: 'running', addressed: false },
    { name: 'the newest wanted task counts, not an older one that is shutting down', tasks: [task('s1', { node: 'n1', ip: '10.0.1.5', desired: 'shutdown', at: '2024-05-01T10:00:01Z' }), task('s1', { node: 'n2', ip: '10.0.1.9', at: '2024-05-01T10:00:02Z' })], running: true, state: 'running', addressed: true },
  ];
  it.each(rows)('$name', ({ tasks, view, running, state, addressed }) => {
    const f = facts(tasks, view);
    expect({ running: f.running, state: f.state, addressed: Object.keys(f.addresses).length > 0 }).toEqual({ running, state, addressed });
  });

  it('a rescheduled task: the new one is current; the old one, still running on a down node, is lost with it', () => {
    const old = task('s1', { node: 'n1', ip: '10.0.1.5', desired: 'shutdown', at: '2024-05-01T10:00:01Z' });
    const fresh = task('s1', { node: 'n2', ip: '10.0.1.9', at: '2024-05-01T10:00:02Z' });
    const f = facts([old, fresh], nodes(node('n1', { state: 'down' }), node('n2')));
    expect(f.node).toEqual({ nodeId: 'n2', node: 'host-n2' });
    expect(f.addresses[8080]).toEqual({ host: '10.0.1.9', port: 8080 });
    expect(f.lostWith).toEqual({ nodeId: 'n1', node: 'host-n1', taskId: old.ID });
    // Once the node is back and has stopped it, nothing is lost any more.
    const stopped = { ...old, Status: { ...old.Status, State: 'shutdown' } };
    expect(facts([stopped, fresh]).lostWith).toBeUndefined();
  });

  it('a node unknown to the listing is named by its id', () => {
    const f = facts([task('s1', { node: 'gone-node-id-123456', ip: '10.0.1.5' })], nodes());
    expect(f.node).toEqual({ nodeId: 'gone-node-id-123456', node: 'gone-node-id' });
    expect(f.lostWith?.nodeId).toBe('gone-node-id-123456');
  });

  it('taskPlacementOf: the current task\'s node and container, none before it is placed', () => {
    const placed = task('s1', { node: 'n2', container: 'abc' });
    expect(taskPlacementOf(service('s1'), [placed])).toEqual({ taskId: placed.ID, nodeId: 'n2', containerId: 'abc' });
    expect(taskPlacementOf(service('s1'), [task('s1', { state: 'pending' })])).toBeUndefined();
  });
});
