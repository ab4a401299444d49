// Edits App manifests on disk, so that the manifest directory stays the single source of truth:
// the write API and `autoserve scale|up|down` change a file, and the watching daemon follows.
//
// An edit finds the document that declares the app, changes it, re-validates the whole file with the
// manifest validator, and writes it atomically (temp file + rename, so the watcher never reads
// half a file). The other documents of a multi-document YAML file are kept byte for byte; the
// edited document is re-serialised, so comments inside it are not kept.
import { mkdir, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { dump, load } from 'js-yaml';
import { isRecord } from './defaults.js';
import { listManifestTree } from './list-manifest-files.js';
import { withManifestEditLock } from './manifest-edit-lock.js';
import {
  ConcurrentChangeError,
  createManifestFile,
  editableTarget,
  ManifestWriteRefused,
  replaceManifestFile,
} from './manifest-file-write.js';
import { MAX_ALIASES, parseManifestFile } from './parse-file.js';
import { readManifestText } from './read-manifest-file.js';
import type { AppManifest, ManifestError } from './types.js';

export type ManifestEditErrorCode = 'AppNotFound' | 'AppExists' | 'InvalidManifest' | 'NotEditable' | 'Conflict';

/** How often an edit is redone on the new text when someone changed the file meanwhile. */
const MAX_EDIT_ATTEMPTS = 5;

/** A refused edit; `code` is stable (the API maps it to a status), `errors` name bad fields. */
export class ManifestEditError extends Error {
  constructor(
    readonly code: ManifestEditErrorCode,
    message: string,
    readonly errors: ManifestError[] = [],
  ) {
    super(message);
    this.name = 'ManifestEditError';
  }
}

/** Changes the raw (un-defaulted) document in place. */
export type ManifestMutation = (doc: Record<string, unknown>) => void;

export interface EditResult {
  file: string;
  /** The app as the daemon will load it (defaults applied). */
  manifest: AppManifest;
  /** False when the edit changed nothing (the file was not rewritten). */
  changed: boolean;
}

// A YAML document starts after a "---" line (directives end marker) at column 0.
const DOCUMENT_MARKER = /^---(?=\s|$)/m;

/**
 * Finds the file and document that declare `app` in `dir`, applies `mutate`, validates, writes.
 * Under the edit lock; redone when the file changed between the read and the write.
 */
export async function editAppManifest(dir: string, app: string, mutate: ManifestMutation): Promise<EditResult> {
  return withManifestEditLock(dir, async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await editOnce(dir, app, mutate);
      } catch (err) {
        if (!(err instanceof ConcurrentChangeError)) throw err;
        if (attempt >= MAX_EDIT_ATTEMPTS) {
          throw new ManifestEditError('Conflict', `${basename(err.file)} kept changing while it was being edited; try again`);
        }
      }
    }
  });
}

async function editOnce(dir: string, app: string, mutate: ManifestMutation): Promise<EditResult> {
  const tree = await listManifestTree(dir);
  const found: { file: string; text: string; next: string }[] = [];
  const seen = new Set<string>(); // a link inside the directory and its target are one file
  for (const file of tree.files) {
    const text = await readManifestText(file, tree.root);
    if (typeof text !== 'string' || !isEditable(file, text)) continue;
    const next = file.toLowerCase().endsWith('.json') ? editJson(text, app, mutate) : editYaml(text, app, mutate);
    if (next === undefined) continue;
    const real = await realpath(file).catch(() => file);
    if (seen.has(real)) continue;
    seen.add(real);
    found.push({ file, text, next });
  }
  const [only, ...more] = found;
  if (!only) throw new ManifestEditError('AppNotFound', `no manifest in ${dir} declares an app named ${JSON.stringify(app)}`);
  // Which copy runs is the loader's call (the one that held the name first): an edit of "the first
  // file" could change a copy that runs nothing and leave the running app as it is.
  if (more.length > 0) {
    const files = found.map((f) => basename(f.file)).join(', ');
    throw new ManifestEditError('Conflict', `${found.length} manifests declare an app named ${JSON.stringify(app)} (${files}); remove the copies, then edit again`);
  }
  const { file, text, next } = only;
  const manifest = validated(file, next, app);
  if (next === text) return { file, manifest, changed: false };
  // A symlinked manifest is edited where it points (renaming over the link would replace it),
  // and only when that is inside the manifests directory.
  const target = await editableTarget(dir, file).catch(refusedAs('NotEditable'));
  await replaceManifestFile(target, next, text);
  return { file, manifest, changed: true };
}

/**
 * Only a file the loader can read as a whole is rewritten: a syntax error, a document past the size
 * limits or a non-mapping document is not ours to re-serialise (and must never be expanded).
 */
function isEditable(file: string, text: string): boolean {
  return !parseManifestFile(file, text).errors.some((e) => e.path === '' && e.app === undefined);
}

/** Writes a new `<name>.yaml`; refuses when any manifest already declares the name or the file exists. */
export async function registerAppManifest(dir: string, raw: unknown): Promise<EditResult> {
  const name = isRecord(raw) && isRecord(raw.metadata) ? raw.metadata.name : undefined;
  if (typeof name !== 'string' || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) {
    throw new ManifestEditError('InvalidManifest', 'metadata.name must be a DNS label (lowercase letters, digits and dashes)');
  }
  const file = join(dir, `${name}.yaml`);
  const text = dump(raw, { lineWidth: 120, noRefs: true });
  const manifest = validated(file, text, name);
  await mkdir(dir, { recursive: true });
  return withManifestEditLock(dir, async () => {
    const tree = await listManifestTree(dir);
    for (const existing of tree.files) {
      const other = await readManifestText(existing, tree.root);
      if (existing === file || (typeof other === 'string' && parseManifestFile(existing, other).apps.some((a) => a.manifest.metadata.name === name))) {
        throw new ManifestEditError('AppExists', `an app named ${JSON.stringify(name)} is already declared (${basename(existing)})`);
      }
    }
    await createManifestFile(file, text).catch(refusedAs('AppExists'));
    return { file, manifest, changed: true };
  });
}

/** Turns a refused write into the edit error the API and the CLI report. */
function refusedAs(code: ManifestEditErrorCode): (err: unknown) => never {
  return (err) => {
    if (err instanceof ManifestWriteRefused) throw new ManifestEditError(code, err.message);
    throw err;
  };
}

function editYaml(text: string, app: string, mutate: ManifestMutation): string | undefined {
  const parts = splitDocuments(text);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    let doc: unknown;
    try {
      doc = load(part.body, { maxAliases: MAX_ALIASES });
    } catch {
      return undefined; // unreadable file: not ours to rewrite
    }
    if (!declares(doc, app)) continue;
    if (parts.slice(i + 1).some((later) => declaresSafely(later.body, app))) {
      throw new ManifestEditError('Conflict', `two documents declare an app named ${JSON.stringify(app)} in one file; remove the copy, then edit again`);
    }
    const before = JSON.stringify(doc);
    mutate(doc);
    if (JSON.stringify(doc) === before) return text;
    parts[i] = { ...part, body: dump(doc, { lineWidth: 120, noRefs: true }) };
    return parts.map((p) => p.marker + p.body).join('');
  }
  return undefined;
}

function editJson(text: string, app: string, mutate: ManifestMutation): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const docs = Array.isArray(value) ? value : [value];
  const declaring = docs.filter((d) => declares(d, app));
  const doc = declaring[0];
  if (!doc) return undefined;
  if (declaring.length > 1) {
    throw new ManifestEditError('Conflict', `two documents declare an app named ${JSON.stringify(app)} in one file; remove the copy, then edit again`);
  }
  const before = JSON.stringify(value);
  mutate(doc);
  return JSON.stringify(value) === before ? text : `${JSON.stringify(value, null, 2)}\n`;
}

function declaresSafely(body: string, app: string): boolean {
  try {
    return declares(load(body, { maxAliases: MAX_ALIASES }), app);
  } catch {
    return false;
  }
}

function declares(doc: unknown, app: string): doc is Record<string, unknown> {
  return isRecord(doc) && isRecord(doc.metadata) && doc.metadata.name === app;
}

interface DocumentPart {
  /** The "---..." line that opens it ('' for the first document without one). */
  marker: string;
  body: string;
}

/** Splits YAML text at document markers, keeping each marker line so a join restores the text. */
export function splitDocuments(text: string): DocumentPart[] {
  const parts: DocumentPart[] = [];
  let rest = text;
  let marker = '';
  for (;;) {
    const match = DOCUMENT_MARKER.exec(rest);
    if (!match) {
      parts.push({ marker, body: rest });
      return parts;
    }
    parts.push({ marker, body: rest.slice(0, match.index) });
    const lineEnd = rest.indexOf('\n', match.index);
    const end = lineEnd === -1 ? rest.length : lineEnd + 1;
    marker = rest.slice(match.index, end);
    rest = rest.slice(end);
  }
}

/** Validates the whole candidate file; the edited app must be valid and no error may be new. */
function validated(file: string, text: string, app: string): AppManifest {
  const parsed = parseManifestFile(file, text);
  const errors = parsed.errors.filter((e) => e.app === app || e.document === undefined);
  const loaded = parsed.apps.find((a) => a.manifest.metadata.name === app);
  if (errors.length > 0 || !loaded) {
    const detail = errors.map((e) => `${e.path || '(document)'}: ${e.message}`).join('; ');
    throw new ManifestEditError('InvalidManifest', `the edited manifest of ${app} would be invalid: ${detail || 'app missing'}`, errors);
  }
  return loaded.manifest;
}

// ---- the edits the API and the CLI offer ------------------------------------------------------

function specOf(doc: Record<string, unknown>): Record<string, unknown> {
  if (!isRecord(doc.spec)) throw new ManifestEditError('NotEditable', 'the manifest has no spec mapping');
  return doc.spec;
}

export function setReplicas(replicas: number): ManifestMutation {
  return (doc) => {
    specOf(doc).replicas = replicas;
  };
}

export function setState(state: 'up' | 'down'): ManifestMutation {
  return (doc) => {
    specOf(doc).state = state;
  };
}

/**
 * Replaces spec.scaling.policy; a bare "auto"/"manual" only switches the mode. An app without a
 * scaling block cannot take a policy: minReplicas/maxReplicas must be declared first.
 */
export function setScalingPolicy(policy: unknown): ManifestMutation {
  return (doc) => {
    const scaling = specOf(doc).scaling;
    if (!isRecord(scaling)) {
      throw new ManifestEditError('NotEditable', 'the app has no spec.scaling block; add minReplicas and maxReplicas first');
    }
    if (policy === 'auto' || policy === 'manual') {
      scaling.policy = { ...(isRecord(scaling.policy) ? scaling.policy : {}), mode: policy };
    } else {
      scaling.policy = policy;
    }
  };
}
