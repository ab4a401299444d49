import { createHash } from 'node:crypto';
import type { ContainerShape } from '../../core/replica.js';
import { stableJson } from '../../core/stable-json.js';

export function revisionOf(shape: ContainerShape): string {
  return createHash('sha256').update(stableJson(shape)).digest('hex').slice(0, 10);
}
