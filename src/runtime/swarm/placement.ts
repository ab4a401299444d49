// Spreading an app's replicas over nodes. Swarm's spread counts the tasks of one service, and
// each replica is a service of its own, so Swarm alone would only balance all tasks per node. When
// AutoServe creates a replica it therefore rules out (node.id!=...) the eligible nodes that already
// run more replicas of the app than the least loaded one; Swarm picks among the rest. Pure.
//
// Constraint matching follows swarmkit's (manager/constraint): ==/!= on node.id, node.hostname,
// node.role, node.platform.os/arch, node.labels.<k>, engine.labels.<k>; values compare without
// case; a missing label never equals.
import { isNodeReady, type SwarmNode } from './swarm-objects.js';

const CONSTRAINT = /^\s*([A-Za-z0-9._-]+)\s*(==|!=)\s*(.+?)\s*$/;

/** What a node offers to one constraint key; undefined when it has no such attribute. */
function attributeOf(node: SwarmNode, key: string): string | undefined {
  const lower = key.toLowerCase();
  if (lower === 'node.id') return node.ID;
  if (lower === 'node.hostname') return node.Description?.Hostname;
  if (lower === 'node.role') return node.Spec.Role;
  if (lower === 'node.platform.os') return node.Description?.Platform?.OS;
  if (lower === 'node.platform.arch') return node.Description?.Platform?.Architecture;
  if (lower.startsWith('node.labels.')) return node.Spec.Labels?.[key.slice('node.labels.'.length)];
  if (lower.startsWith('engine.labels.')) return node.Description?.Engine?.Labels?.[key.slice('engine.labels.'.length)];
  return undefined;
}

export function satisfies(node: SwarmNode, constraint: string): boolean {
  const match = CONSTRAINT.exec(constraint);
  if (!match) return false;
  const [, key, operator, value] = match;
  const have = attributeOf(node, key!);
  const equal = have !== undefined && have.toLowerCase() === value!.toLowerCase();
  return operator === '==' ? equal : !equal;
}

/** Nodes a replica may go to: up, accepting tasks (availability active) and satisfying every constraint. */
export function eligibleNodes(nodes: Iterable<SwarmNode>, constraints: readonly string[]): SwarmNode[] {
  return [...nodes].filter((n) => isNodeReady(n) && (n.Spec.Availability ?? 'active') === 'active' && constraints.every((c) => satisfies(n, c)));
}

/**
 * The extra constraints of a new replica of an app whose other replicas run on `appNodeIds` (one
 * entry per replica): exclude every eligible node that runs more of them than the least loaded
 * one. Never excludes all eligible nodes; no eligible node: nothing to add (Swarm then reports
 * "no suitable node").
 */
export function spreadConstraints(nodes: Iterable<SwarmNode>, constraints: readonly string[], appNodeIds: readonly string[]): string[] {
  const eligible = eligibleNodes(nodes, constraints);
  if (eligible.length < 2) return [];
  const count = (id: string) => appNodeIds.filter((n) => n === id).length;
  const least = Math.min(...eligible.map((n) => count(n.ID)));
  return eligible.filter((n) => count(n.ID) > least).map((n) => `node.id!=${n.ID}`);
}
