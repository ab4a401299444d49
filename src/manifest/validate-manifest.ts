// Validates one parsed document: kind check, schema (Ajv, every error at once), then the
// cross-field rules a JSON Schema cannot say clearly. Errors name the exact field path and say in
// plain words what is wrong, because the reader is someone fixing a YAML file.

import type { ErrorObject } from 'ajv';
import { cut, printable, quote } from '../core/printable.js';
import type { AppManifest } from './types.js';
import { PATTERN_HINTS } from './schema.js';
import { schemaValidator } from './schema-validator.js';
import { applyComputedDefaults, isRecord } from './defaults.js';
import { MAX_MEMORY_BYTES, MIN_MEMORY_BYTES, parseMemoryBytes } from '../core/memory-quantity.js';
import { reservedHostReason } from './reserved-hosts.js';
import { escapePointer } from './yaml-scalar-sources.js';

/** JSON pointer -> the text the file has there (YAML plain scalars), for hints that quote it. */
export type SourceLookup = (pointer: string) => string | undefined;

/** Most errors reported for one document: enough to fix it, never a flood. */
export const MAX_ERRORS_PER_DOCUMENT = 20;

export interface FieldError {
  /** JSON pointer of the offending field; "" for the whole document. */
  path: string;
  message: string;
}

export interface ValidatedDocument {
  /** The manifest with defaults applied; only when there are no errors. */
  manifest?: AppManifest;
  /** metadata.name when it is a readable string, valid or not (errors carry it). */
  app?: string;
  errors: FieldError[];
}

/**
 * Validates one parsed document. Precondition: `raw` is within the document limits
 * (document-limits.ts); parseManifestFile checks them. Every path and message is printable and cut.
 */
export function validateManifest(raw: unknown, sources?: SourceLookup): ValidatedDocument {
  if (!isRecord(raw)) {
    return { errors: [{ path: '', message: `a manifest must be a mapping (an App object), got ${kindOf(raw)}` }] };
  }
  const app = readableName(raw);
  // Unknown kinds get one clear error instead of a wall of schema errors about fields they lack.
  if (raw.kind !== 'App') {
    const message = raw.kind === undefined ? 'is required and must be "App"' : `unknown kind ${quote(raw.kind)} (expected "App")`;
    return { ...(app !== undefined ? { app } : {}), errors: [{ path: '/kind', message }] };
  }

  // Ajv writes defaults into what it validates: work on a copy so the caller's object stays raw.
  const doc: unknown = structuredClone(raw);
  const validate = schemaValidator();
  const errors: FieldError[] = [];
  if (!validate(doc)) errors.push(...describeSchemaErrors(validate.errors ?? [], sources));
  applyComputedDefaults(doc);
  errors.push(...crossFieldErrors(doc));

  const unique = bounded(dedupe(errors).map((e) => ({ path: printable(boundedPath(e.path)), message: printable(e.message) })));
  return {
    ...(app !== undefined ? { app } : {}),
    ...(unique.length === 0 ? { manifest: doc as AppManifest } : {}),
    errors: unique,
  };
}

function readableName(doc: Record<string, unknown>): string | undefined {
  const name = isRecord(doc.metadata) ? doc.metadata.name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

// ---- schema errors -> plain words -------------------------------------------------------------

export function describeSchemaErrors(errors: ErrorObject[], sources?: SourceLookup): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const described = describeSchemaError(error, sources);
    if (described) out.push(described);
  }
  return out;
}

/**
 * Where a value may be an env value: the env list, an item (a Compose-style "NAME=secret" string),
 * an item's value, or its name (`name: API_KEY=secret`). An error there never repeats the value
 * (--redact-env-values hides them from status readers, and errors reach them).
 */
const ENV_VALUE_HOLDER = /^\/spec\/env(\/\d+(\/(value|name))?)?$/;

function describeSchemaError(e: ErrorObject, sources?: SourceLookup): FieldError | undefined {
  const described = describeSchemaErrorQuoting(e, sources);
  if (!described || !ENV_VALUE_HOLDER.test(e.instancePath) || e.data === undefined || e.data === null || typeof e.data === 'object') return described;
  return { ...described, message: described.message.split(quote(e.data)).join('(not shown: env values may be secret)') };
}

function describeSchemaErrorQuoting(e: ErrorObject, sources?: SourceLookup): FieldError | undefined {
  const params = e.params as Record<string, unknown>;
  const schemaPath = e.schemaPath;

  // env items: "exactly one of value/valueFrom" is a oneOf of two `required`s; say it once, plainly.
  if (schemaPath.endsWith('/env/items/oneOf')) {
    const both = isRecord(e.data) && e.data.value !== undefined && e.data.valueFrom !== undefined;
    return { path: e.instancePath, message: both ? 'must set exactly one of value or valueFrom, not both' : 'must set value or valueFrom' };
  }
  if (schemaPath.includes('/env/items/oneOf/')) return undefined;
  // A literal env value may be hidden from status readers (--redact-env-values), and an error
  // reaches them: say what is wrong with it without repeating it.
  if (ENV_VALUE_POINTER.test(e.instancePath) && (e.keyword === 'type' || e.keyword === 'pattern')) return { path: e.instancePath, message: envValueProblem(e) };
  // valueFrom is "env" | "sdk" | {env: NAME} | {secret: NAME}: report the branch that matches the shape written.
  if (schemaPath.endsWith('/valueFrom/oneOf')) {
    return valueFromKey(e.data) !== undefined
      ? undefined
      : { path: e.instancePath, message: `must be "env", "sdk", {env: NAME} or {secret: NAME}, got ${quote(e.data)}` };
  }
  if (schemaPath.includes('/valueFrom/oneOf/0/')) return undefined;
  if (/\/valueFrom\/oneOf\/[12]\//.test(schemaPath)) {
    // Only the branch the author meant (by the key written) speaks; the others would only say "wrong key".
    const branch = schemaPath.includes('/valueFrom/oneOf/1/') ? 'env' : 'secret';
    const written = e.instancePath.endsWith('/valueFrom') ? valueFromKey(e.data) : e.instancePath.split('/').pop();
    if (e.keyword === 'type' || written !== branch) return undefined;
  }

  // propertyNames: point at the bad key itself; the summary error adds nothing.
  if (e.keyword === 'propertyNames') return undefined;
  if (e.propertyName !== undefined) {
    const key = e.propertyName;
    return { path: `${e.instancePath}/${escapePointer(key)}`, message: `key ${quote(key)} ${keyProblem(e)}` };
  }

  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = knownKeys(e.parentSchema);
      const guess = closest(key, known);
      const hint = guess ? ` (did you mean "${guess}"?)` : known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
      return { path: `${e.instancePath}/${escapePointer(key)}`, message: `unknown field ${quote(key)}${hint}` };
    }
    case 'required':
      return { path: `${e.instancePath}/${escapePointer(String(params.missingProperty))}`, message: 'is required' };
    case 'type': {
      const expected = String(params.type);
      if (expected === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean')) {
        // Quote what the author typed (`1.0`, `0x1F`), not the number YAML made of it.
        const written = sources?.(e.instancePath);
        if (written !== undefined) return { path: e.instancePath, message: `must be a string; quote it in YAML: ${quote(written)}` };
        return { path: e.instancePath, message: `must be a string, got ${kindOf(e.data)}` };
      }
      return { path: e.instancePath, message: `must be ${article(expected)}, got ${kindOf(e.data)}` };
    }
    case 'const':
      return { path: e.instancePath, message: `must be ${quote(params.allowedValue)}, got ${quote(e.data)}` };
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map((v) => quote(v)).join(', ') : '';
      return { path: e.instancePath, message: `must be one of ${allowed}, got ${quote(e.data)}` };
    }
    case 'pattern': {
      const hint = PATTERN_HINTS[String(params.pattern)];
      return { path: e.instancePath, message: `must be ${hint ?? `a string matching ${String(params.pattern)}`}, got ${quote(e.data)}` };
    }
    case 'minLength':
      return { path: e.instancePath, message: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters` };
    case 'maxLength':
      return { path: e.instancePath, message: `must be at most ${String(params.limit)} characters (is ${typeof e.data === 'string' ? e.data.length : '?'})` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path: e.instancePath, message: `${e.message ?? 'is out of range'}, got ${quote(e.data)}` };
    default:
      return { path: e.instancePath, message: e.message ?? `fails ${e.keyword}` };
  }
}

const ENV_VALUE_POINTER = /^\/spec\/env\/\d+\/value$/;

/** The problem of a literal env value (a type or pattern error), without the value. */
function envValueProblem(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'type') {
    const quoteIt = typeof e.data === 'number' || typeof e.data === 'boolean' ? '; quote it in YAML' : '';
    return `must be a string, got ${kindOf(e.data, { withValue: false })}${quoteIt}`;
  }
  return `must be ${PATTERN_HINTS[String(params.pattern)] ?? 'text'}`;
}

/** Which valueFrom form an object means: the one key of env/secret it has (undefined for none or both). */
function valueFromKey(data: unknown): 'env' | 'secret' | undefined {
  if (!isRecord(data) || ('env' in data) === ('secret' in data)) return undefined;
  return 'env' in data ? 'env' : 'secret';
}

function keyProblem(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'pattern') return `is not ${PATTERN_HINTS[String(params.pattern)] ?? 'an allowed key'}`;
  if (e.keyword === 'maxLength') return `is longer than ${String(params.limit)} characters`;
  return e.message ?? 'is not allowed';
}

function knownKeys(parentSchema: unknown): string[] {
  if (!isRecord(parentSchema) || !isRecord(parentSchema.properties)) return [];
  return Object.keys(parentSchema.properties);
}

/** The known key a typo most likely meant: small edit distance or a shared stem. */
function closest(key: string, known: string[]): string | undefined {
  if (key.length > 64) return undefined; // no typo is that long, and the distance costs len x len
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return undefined;
  const limit = Math.max(2, Math.floor(best.name.length / 4));
  return best.distance <= limit ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// ---- cross-field rules ------------------------------------------------------------------------

/** Rules between fields. Defensive about types: they run even when the schema already failed. */
function crossFieldErrors(doc: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const spec = isRecord(doc) && isRecord(doc.spec) ? doc.spec : undefined;
  if (!spec) return errors;

  const ports: number[] = [];
  if (Array.isArray(spec.ports)) {
    const seen = new Map<number, number>();
    spec.ports.forEach((entry: unknown, i) => {
      if (isRecord(entry) && entry.hostIP !== undefined && entry.publish !== true) {
        errors.push({ path: `/spec/ports/${i}/hostIP`, message: 'only with publish: true (an unpublished port has no host address)' });
      }
      const port = isRecord(entry) ? entry.containerPort : undefined;
      if (typeof port !== 'number') return;
      const first = seen.get(port);
      if (first !== undefined) {
        errors.push({ path: `/spec/ports/${i}/containerPort`, message: `duplicate containerPort ${port} (also /spec/ports/${first})` });
      } else {
        seen.set(port, i);
        ports.push(port);
      }
    });
  }

  const httpGet = isRecord(spec.health) && isRecord(spec.health.httpGet) ? spec.health.httpGet : undefined;
  if (httpGet && typeof httpGet.port === 'number' && ports.length > 0 && !ports.includes(httpGet.port)) {
    errors.push({
      path: '/spec/health/httpGet/port',
      message: `must be one of the declared containerPorts (${ports.join(', ')}), got ${httpGet.port}`,
    });
  }

  const scaling = isRecord(spec.scaling) ? spec.scaling : undefined;
  if (scaling && typeof scaling.minReplicas === 'number' && typeof scaling.maxReplicas === 'number'
    && scaling.minReplicas > scaling.maxReplicas) {
    errors.push({ path: '/spec/scaling/minReplicas', message: `must be <= maxReplicas (${scaling.maxReplicas}), got ${scaling.minReplicas}` });
  }
  const scaleIn = scaling && isRecord(scaling.policy) && isRecord(scaling.policy.behavior) && isRecord(scaling.policy.behavior.scaleIn)
    ? scaling.policy.behavior.scaleIn : undefined;
  if (scaleIn && typeof scaleIn.stabilizationSeconds === 'number' && typeof scaleIn.recurringStabilizationSeconds === 'number'
    && scaleIn.recurringStabilizationSeconds < scaleIn.stabilizationSeconds) {
    errors.push({
      path: '/spec/scaling/policy/behavior/scaleIn/recurringStabilizationSeconds',
      message: `must be >= stabilizationSeconds (${scaleIn.stabilizationSeconds}), got ${scaleIn.recurringStabilizationSeconds}`,
    });
  }
  const http = scaling && isRecord(scaling.policy) && isRecord(scaling.policy.http) ? scaling.policy.http : undefined;
  if (http) {
    if (typeof http.scaleInThresholdPct === 'number' && typeof http.scaleOutThresholdPct === 'number'
      && http.scaleInThresholdPct >= http.scaleOutThresholdPct) {
      errors.push({
        path: '/spec/scaling/policy/http/scaleInThresholdPct',
        message: `must be < scaleOutThresholdPct (${http.scaleOutThresholdPct}), got ${http.scaleInThresholdPct}`,
      });
    }
    // Thresholds are percentages of a target: without one there is nothing to compare load against.
    if (http.targetRPSPerReplica === undefined && http.maxP95LatencyMs === undefined) {
      errors.push({ path: '/spec/scaling/policy/http', message: 'must set targetRPSPerReplica, maxP95LatencyMs, or both' });
    }
  }

  errors.push(...ingressErrors(spec.ingress), ...resourceErrors(spec.resources));

  if (Array.isArray(spec.env)) {
    const seen = new Map<string, number>();
    spec.env.forEach((entry: unknown, i) => {
      const name = isRecord(entry) ? entry.name : undefined;
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first !== undefined) errors.push({ path: `/spec/env/${i}/name`, message: `duplicate env name ${quote(name)} (also /spec/env/${first})` });
      else seen.set(name, i);
    });
  }
  return errors;
}

/** What nginx would refuse or never match: reserved hosts, empty or dot segments in a prefix. */
function ingressErrors(ingress: unknown): FieldError[] {
  if (!isRecord(ingress)) return [];
  const errors: FieldError[] = [];
  if (typeof ingress.host === 'string') {
    const reserved = reservedHostReason(ingress.host);
    if (reserved) errors.push({ path: '/spec/ingress/host', message: `${reserved}; choose another host` });
  }
  if (typeof ingress.pathPrefix === 'string' && ingress.pathPrefix.startsWith('/')) {
    // nginx merges "//" and resolves "." and ".." before it matches a location.
    const segments = ingress.pathPrefix.slice(1).split('/');
    const inner = segments.slice(0, -1); // a trailing "/" leaves one empty last segment: allowed
    if (inner.includes('')) errors.push({ path: '/spec/ingress/pathPrefix', message: `must not have an empty segment ("//"), got ${quote(ingress.pathPrefix)}` });
    const dots = segments.find((s) => s === '.' || s === '..');
    if (dots !== undefined) {
      errors.push({ path: '/spec/ingress/pathPrefix', message: `must not have a ${quote(dots)} segment (nginx resolves it away, so the route never matches), got ${quote(ingress.pathPrefix)}` });
    }
  }
  return errors;
}

/** A memory limit Docker would refuse, or one that would silently mean "no limit". */
function resourceErrors(resources: unknown): FieldError[] {
  if (!isRecord(resources) || typeof resources.memory !== 'string') return [];
  let bytes: number;
  try {
    bytes = parseMemoryBytes(resources.memory);
  } catch {
    return []; // the pattern error says it
  }
  if (bytes < MIN_MEMORY_BYTES) {
    return [{ path: '/spec/resources/memory', message: `must be at least 6Mi (Docker's smallest limit), got ${quote(resources.memory)} (${bytes} bytes)` }];
  }
  if (bytes > MAX_MEMORY_BYTES) {
    return [{ path: '/spec/resources/memory', message: `must be at most ${MAX_MEMORY_BYTES} bytes, got ${quote(resources.memory)}` }];
  }
  return [];
}

// ---- helpers ----------------------------------------------------------------------------------

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\0${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Cuts each segment of a JSON pointer: a megabyte-long key must not become a megabyte-long path. */
function boundedPath(pointer: string): string {
  return pointer.split('/').map((segment) => cut(segment)).join('/');
}

/** At most MAX_ERRORS_PER_DOCUMENT errors, the last one saying how many more there were. */
function bounded(errors: FieldError[]): FieldError[] {
  if (errors.length <= MAX_ERRORS_PER_DOCUMENT) return errors;
  const kept = errors.slice(0, MAX_ERRORS_PER_DOCUMENT - 1);
  return [...kept, { path: '', message: `and ${errors.length - kept.length} more errors in this document` }];
}

function kindOf(value: unknown, { withValue } = { withValue: true }): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return withValue ? `${article(typeof value)} ${quote(value)}` : article(typeof value);
}

function article(type: string): string {
  const noun = type === 'object' ? 'mapping' : type === 'array' ? 'list' : type;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}
