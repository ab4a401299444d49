// Turns one file's text into apps and errors. YAML files may hold several documents ("---");
// empty ones are skipped. JSON files hold one App object (or a list of them). A syntax error makes
// the whole file unreadable: it is reported once, without a document index, and yields no apps.
// A document past the size limits (document-limits.ts) is refused before anything walks it; the
// other documents of the file still load. Nothing here throws: every failure becomes an error
// naming the file.

import { constructFromEvents, EVENT_ID, parseEvents, YAMLException, type Event } from 'js-yaml';
import { cut, printable } from '../core/printable.js';
import { assertNoDuplicateKeys, DuplicateKeyError } from './json-duplicate-keys.js';
import { checkJsonDocument, checkYamlDocuments, MAX_DOCUMENT_DEPTH } from './document-limits.js';
import type { LoadedApp, ManifestError } from './types.js';
import { validateManifest, type SourceLookup } from './validate-manifest.js';
import { plainScalarSources } from './yaml-scalar-sources.js';

// Aliases are shared references: a few nested ones expand exponentially when validated or
// compared ("billion laughs"). Manifests barely need them, so keep the budget small; the
// expanded size is bounded as well (document-limits.ts).
export const MAX_ALIASES = 50;
/** Most documents one file may hold; a file past it is refused whole. */
export const MAX_DOCUMENTS_PER_FILE = 1_000;

export interface ParsedFile {
  apps: LoadedApp[];
  errors: ManifestError[];
}

/** One document of a file: its value, or why it was refused unread, and where its scalars came from. */
interface DocumentInput {
  value?: unknown;
  refused?: string;
  sources?: SourceLookup;
}

export function parseManifestFile(file: string, text: string): ParsedFile {
  let documents: DocumentInput[];
  try {
    documents = file.toLowerCase().endsWith('.json') ? parseJsonDocuments(text) : parseYamlDocuments(text);
  } catch (err) {
    const message = err instanceof TooManyDocumentsError ? err.message : syntaxMessage(err, text);
    return { apps: [], errors: [{ file, path: '', message }] };
  }
  if (documents.length > MAX_DOCUMENTS_PER_FILE) {
    return { apps: [], errors: [{ file, path: '', message: new TooManyDocumentsError(documents.length).message }] };
  }

  const apps: LoadedApp[] = [];
  const errors: ManifestError[] = [];
  documents.forEach(({ value, refused, sources }, document) => {
    if (refused !== undefined) {
      errors.push({ file, path: '', message: `document ${refused}; refused unread`, document });
      return;
    }
    if (value === null || value === undefined) return; // "---" separators, comment-only documents
    const result = validateManifest(value, sources);
    const app = result.app !== undefined ? { app: result.app } : {};
    for (const error of result.errors) errors.push({ file, ...error, ...app, document });
    if (result.manifest) apps.push({ manifest: result.manifest, file, document });
  });
  return { apps, errors };
}

/**
 * One document of YAML or JSON text (a request body), within the same limits as a manifest file.
 * Throws an Error saying what is wrong: a syntax error, more than one document, a document past
 * the limits. The value is safe to walk, clone and serialise.
 */
export function parseSingleDocument(text: string, format: 'yaml' | 'json'): unknown {
  let documents: DocumentInput[];
  try {
    documents = format === 'json' ? [parseJsonValue(text)] : parseYamlDocuments(text);
  } catch (err) {
    throw new Error(syntaxMessage(err, text));
  }
  if (documents.length !== 1) throw new Error(`expected one document, got ${documents.length}`);
  const [document] = documents;
  if (document?.refused !== undefined) throw new Error(`the document ${document.refused}`);
  return document?.value;
}

class TooManyDocumentsError extends Error {
  constructor(count: number) {
    super(`file holds ${count} documents; a file may hold at most ${MAX_DOCUMENTS_PER_FILE}`);
  }
}

function parseYamlDocuments(text: string): DocumentInput[] {
  // The parser caps real nesting itself (well above ours, so ours gives the clearer message).
  const events = parseEvents(text, { maxDepth: MAX_DOCUMENT_DEPTH * 2 });
  const documents = splitDocuments(events);
  // Counted before any document is built: a megabyte of "---" is 262,144 of them.
  if (documents.length > MAX_DOCUMENTS_PER_FILE) throw new TooManyDocumentsError(documents.length);
  const problems = checkYamlDocuments(events, text);
  return documents.map((documentEvents, i) => {
    const refused = problems[i];
    if (refused !== undefined) return { refused };
    const [value] = constructFromEvents(documentEvents, { source: text, maxAliases: MAX_ALIASES });
    let sources: Map<string, string> | undefined;
    // Built only when an error wants to quote the file's own text.
    return { value, sources: (pointer: string) => (sources ??= plainScalarSources(documentEvents, text)).get(pointer) };
  });
}

/** The events of each document, each run from its DOCUMENT event to the matching POP. */
function splitDocuments(events: Event[]): Event[][] {
  const documents: Event[][] = [];
  let start = 0;
  let depth = 0;
  events.forEach((event, i) => {
    if (event.type === EVENT_ID.DOCUMENT || event.type === EVENT_ID.SEQUENCE || event.type === EVENT_ID.MAPPING) {
      if (depth === 0) start = i;
      depth += 1;
    } else if (event.type === EVENT_ID.POP) {
      depth -= 1;
      if (depth === 0) documents.push(events.slice(start, i + 1));
    }
  });
  return documents;
}

function parseJsonDocuments(text: string): DocumentInput[] {
  const value = parseJson(text);
  return (Array.isArray(value) ? value : [value]).map(checkedJson);
}

function parseJsonValue(text: string): DocumentInput {
  return checkedJson(parseJson(text));
}

// A byte order mark is legal at the start of a UTF-8 file and means nothing; JSON.parse refuses it.
function parseJson(text: string): unknown {
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const value: unknown = JSON.parse(json);
  assertNoDuplicateKeys(json);
  return value;
}

function checkedJson(value: unknown): DocumentInput {
  const refused = checkJsonDocument(value);
  return refused !== undefined ? { refused } : { value };
}

/**
 * A syntax error by line and column, and what kind it is, never with the file's text: the text
 * around an error may be a secret (an env value written without quotes), and errors reach status
 * readers. The line says where to look.
 */
function syntaxMessage(err: unknown, text: string): string {
  if (err instanceof YAMLException) {
    const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    // Alias and tag names are the file's text ("unidentified alias "s3cret"", "unknown tag !<!s3cret>").
    const reason = (err.reason ?? 'cannot parse').replace(/"[^"\n]*"/g, '"…"').replace(/!<[^>\n]*>/g, '!<…>');
    return printable(cut(`YAML syntax error${at}: ${reason}`, 300));
  }
  if (err instanceof DuplicateKeyError) return printable(cut(`JSON syntax error at line ${err.line}: duplicate key ${JSON.stringify(err.key)}`, 300));
  if (err instanceof SyntaxError) {
    // V8 names a character offset ("at position 12"), or quotes the text around an unexpected
    // token ('Unexpected token 'c', ..."value":co"... is not valid JSON'); editors want a line.
    const position = /position (\d+)/.exec(err.message);
    const around = /, (?:\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(err.message);
    const found = around ? text.indexOf(around[1]!) : -1;
    const offset = position ? Number(position[1]) : found >= 0 ? found + Math.floor(around![1]!.length / 2) : undefined;
    const at = offset !== undefined ? ` at line ${text.slice(0, offset).split('\n').length}` : '';
    const kind = err.message.replace(/ in JSON at position \d+.*$/s, '').replace(/^(Unexpected token) .*$/s, '$1');
    return printable(cut(`JSON syntax error${at}: ${kind}`, 300));
  }
  return printable(cut(`cannot parse: ${err instanceof Error ? err.message : String(err)}`, 300));
}
