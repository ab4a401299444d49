import { EnvMissingError } from '../../errors.js';
import type { EnvVar } from '../../manifest/types.js';
import type { ValueRef, ValueSource } from '../../secrets/value-source.js';

/**
 * Resolves `env` into plain values. `valueFrom` reads only what the operator opened to apps
 * (value-source.ts): a refused or missing value is a stalled error naming the variable and why,
 * never an empty string and never the value.
 */
export function resolveEnv(app: string, env: EnvVar[], source: ValueSource): Record<string, string> {
  // No prototype: a plain object would swallow a variable named __proto__.
  const resolved: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const variable of env) {
    if (variable.valueFrom === undefined) {
      resolved[variable.name] = variable.value ?? '';
      continue;
    }
    const found = source.lookup(refOf(variable.name, variable.valueFrom));
    if ('refused' in found) throw new EnvMissingError(app, variable.name, found.refused);
    resolved[variable.name] = found.value;
  }
  return resolved;
}

/** "env" and "sdk" (the seed's word) read the controller variable of the same name. */
function refOf(name: string, from: NonNullable<EnvVar['valueFrom']>): ValueRef {
  return typeof from === 'object' ? from : { env: name };
}
