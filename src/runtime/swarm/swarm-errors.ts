import { isStatus } from '../docker/docker-status.js';

/**
 * Swarm's answer to a write that names a stale object version ("update out of sequence"; HTTP 500
 * on engine 20.10, newer engines may say 409): someone else wrote in between.
 */
export function isOutOfSequence(err: unknown): boolean {
  const text = `${(err as { message?: string } | null)?.message ?? ''} ${JSON.stringify((err as { json?: unknown } | null)?.json ?? '')}`;
  return isStatus(err, 409) || /update out of sequence/i.test(text);
}
