import { createHash } from 'node:crypto';
import { stableJson } from '../../manifest/desired-state.js';
import type { AppSpec } from '../../manifest/types.js';

/** The parts of a spec that shape a container; a change in any of them is a new revision. */
export interface ContainerShape {
  image: string;
  command?: string[];
  env: Record<string, string>;
  resources?: AppSpec['resources'];
  ports: number[];
}

export function revisionOf(shape: ContainerShape): string {
  return createHash('sha256').update(stableJson(shape)).digest('hex').slice(0, 10);
}
