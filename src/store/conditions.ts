import type { Condition } from './status-model.js';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** Sets a condition; lastTransitionTime moves only when the status flips, as in Kubernetes. */
export function setCondition(conditions: Condition[], input: ConditionInput, now = new Date()): void {
  const existing = conditions.find((c) => c.type === input.type);
  if (!existing) {
    conditions.push({ ...input, lastTransitionTime: now.toISOString() });
    return;
  }
  if (existing.status !== input.status) existing.lastTransitionTime = now.toISOString();
  existing.status = input.status;
  existing.reason = input.reason;
  existing.message = input.message;
}

export function removeCondition(conditions: Condition[], type: string): void {
  const index = conditions.findIndex((c) => c.type === type);
  if (index >= 0) conditions.splice(index, 1);
}

export function conditionIsTrue(conditions: Condition[], type: string): boolean {
  return conditions.some((c) => c.type === type && c.status === 'True');
}

/**
 * True for a condition a person should look at: Ready that is not True, or any other condition
 * that is True, except Progressing (news, not trouble) and holding a contested route (this app
 * keeps serving it).
 */
export function needsAttention(c: Condition): boolean {
  if (c.type === 'Ready') return c.status !== 'True';
  if (c.type === 'Progressing') return false;
  if (c.type === 'RouteConflict' && c.reason === 'HoldsContestedRoute') return false;
  return c.status === 'True';
}
