import { EnvMissingError } from '../../errors.js';
import type { EnvVar } from '../../manifest/types.js';

/**
 * Resolves `env` into plain values. `valueFrom` reads the controller's own environment (the seed's
 * "sdk" values): a missing variable is a stalled error naming it, never an empty string.
 */
export function resolveEnv(app: string, env: EnvVar[], source: NodeJS.ProcessEnv): Record<string, string> {
  // No prototype: a plain object would swallow a variable named __proto__.
  const resolved: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const variable of env) {
    if (variable.valueFrom === undefined) {
      resolved[variable.name] = variable.value ?? '';
      continue;
    }
    const from = typeof variable.valueFrom === 'object' ? variable.valueFrom.env : variable.name;
    const value = source[from];
    if (value === undefined) throw new EnvMissingError(app, variable.name, from);
    resolved[variable.name] = value;
  }
  return resolved;
}
