import { createHash } from 'node:crypto';
import type { AppSpec } from '../../manifest/types.js';

/** The parts of a spec that shape a container; a change in any of them is a new revision. */
export interface ContainerShape {
  image: string;
  command?: string[];
  env: Record<string, string>;
  resources?: AppSpec['resources'];
  ports: number[];
}

/** Stable JSON: object keys sorted, so the hash depends on content, not on key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function revisionOf(shape: ContainerShape): string {
  return createHash('sha256').update(stableJson(shape)).digest('hex').slice(0, 10);
}
