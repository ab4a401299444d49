// One compiled Ajv validator for the App schema, shared by validation and defaulting.
// useDefaults fills `default`s into the object while it validates (so callers pass a copy);
// allErrors reports every problem in a document at once; verbose keeps the offending data and
// parent schema on each error so messages can quote the value and suggest the right key.

import { Ajv, type ValidateFunction } from 'ajv';
import { appManifestSchema } from './schema.js';

let compiled: ValidateFunction | undefined;

export function schemaValidator(): ValidateFunction {
  if (!compiled) {
    // strictRequired off: the env oneOf branches name properties declared on the parent item.
    const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false });
    compiled = ajv.compile(appManifestSchema);
  }
  return compiled;
}
