// Defaults: the schema's `default`s are filled by Ajv (useDefaults); the ones that depend on other
// fields (ingress.host from metadata.name) are filled here.

import type { AppManifest } from './types.js';
import { schemaValidator } from './schema-validator.js';

/** The host nginx serves an app on when its manifest names none. */
export function defaultHost(name: string): string {
  return `${name}.localhost`;
}

/** Fills the defaults that Ajv cannot: those computed from other fields. Mutates `doc`. */
export function applyComputedDefaults(doc: unknown): void {
  if (!isRecord(doc) || !isRecord(doc.metadata) || !isRecord(doc.spec)) return;
  const name = doc.metadata.name;
  const ingress = doc.spec.ingress;
  if (typeof name === 'string' && isRecord(ingress) && ingress.host === undefined) {
    ingress.host = defaultHost(name);
  }
}

/**
 * Returns a copy of `raw` with every default applied, as the rest of AutoServe sees an app.
 * Throws if `raw` is not a valid manifest (use validateManifest for per-field errors).
 */
export function applyDefaults(raw: unknown): AppManifest {
  const doc: unknown = structuredClone(raw);
  const validate = schemaValidator();
  if (!validate(doc)) {
    const first = validate.errors?.[0];
    throw new Error(`invalid App manifest: ${first ? `${first.instancePath || '(document)'} ${first.message ?? ''}` : 'unknown error'}`);
  }
  applyComputedDefaults(doc);
  return doc as AppManifest;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
