// Turns one file's text into apps and errors. YAML files may hold several documents ("---");
// empty ones are skipped. JSON files hold one App object (or a list of them). A syntax error makes
// the whole file unreadable: it is reported once, without a document index, and yields no apps.

import { loadAll, YAMLException } from 'js-yaml';
import type { LoadedApp, ManifestError } from './types.js';
import { validateManifest } from './validate-manifest.js';

// Aliases are shared references: a few nested ones expand exponentially when validated or
// compared ("billion laughs"). Manifests barely need them, so keep the budget small.
const MAX_ALIASES = 50;

export interface ParsedFile {
  apps: LoadedApp[];
  errors: ManifestError[];
}

export function parseManifestFile(file: string, text: string): ParsedFile {
  let documents: unknown[];
  try {
    documents = file.toLowerCase().endsWith('.json') ? parseJsonDocuments(text) : loadAll(text, { maxAliases: MAX_ALIASES });
  } catch (err) {
    return { apps: [], errors: [{ file, path: '', message: syntaxMessage(err, text) }] };
  }

  const apps: LoadedApp[] = [];
  const errors: ManifestError[] = [];
  documents.forEach((doc, document) => {
    if (doc === null || doc === undefined) return; // "---" separators, comment-only documents
    const result = validateManifest(doc);
    const app = result.app !== undefined ? { app: result.app } : {};
    for (const error of result.errors) errors.push({ file, ...error, ...app, document });
    if (result.manifest) apps.push({ manifest: result.manifest, file, document });
  });
  return { apps, errors };
}

function parseJsonDocuments(text: string): unknown[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value : [value];
}

function syntaxMessage(err: unknown, text: string): string {
  if (err instanceof YAMLException) {
    const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    return `YAML syntax error${at}: ${err.reason}`;
  }
  if (err instanceof SyntaxError) {
    // V8 names a character offset ("at position 12"); editors want a line.
    const position = /position (\d+)/.exec(err.message);
    const offset = position ? Number(position[1]) : undefined;
    const at = offset !== undefined ? ` at line ${text.slice(0, offset).split('\n').length}` : '';
    return `JSON syntax error${at}: ${err.message}`;
  }
  return `cannot parse: ${err instanceof Error ? err.message : String(err)}`;
}
