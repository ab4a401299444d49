import { EnvMissingError } from '../../errors.js';
import type { EnvVar } from '../../manifest/types.js';
import type { ValueRef, ValueSource } from '../../secrets/value-source.js';

/** An app's env as the container gets it, and as its revision hashes it. */
export interface ResolvedEnv {
  values: Record<string, string>;
  /** Literal values as written; opened values as their keyed fingerprint, never the value. */
  revisionInput: Record<string, string>;
}

/**
 * Resolves `env` into plain values. `valueFrom` reads only what the operator opened to apps
 * (value-source.ts): a refused or missing value is a stalled error naming the variable and why,
 * never an empty string and never the value.
 */
export function resolveEnv(app: string, env: EnvVar[], source: ValueSource): ResolvedEnv {
  // No prototype: a plain object would swallow a variable named __proto__.
  const values = Object.create(null) as Record<string, string>;
  const revisionInput = Object.create(null) as Record<string, string>;
  for (const variable of env) {
    if (variable.valueFrom === undefined) {
      values[variable.name] = revisionInput[variable.name] = variable.value ?? '';
      continue;
    }
    const found = source.lookup(refOf(variable.name, variable.valueFrom));
    if ('refused' in found) throw new EnvMissingError(app, variable.name, found.refused);
    values[variable.name] = found.value;
    revisionInput[variable.name] = source.fingerprint(found.value);
  }
  return { values, revisionInput };
}

/** "env" and "sdk" (the seed's word) read the controller variable of the same name. */
function refOf(name: string, from: NonNullable<EnvVar['valueFrom']>): ValueRef {
  return typeof from === 'object' ? from : { env: name };
}
