// Layers point down (docs/design.md): every import between parts of src/ (and the dashboard's
// browser code in ui/src/) goes to a lower layer, and only the runtime implementations talk to
// Docker. Scans the import statements of src/ and ui/src/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src');
const UI = join(import.meta.dirname, '../../../ui/src');

/** Bottom first. A part may import itself and any part of a lower layer, nothing else. */
const LAYERS: string[][] = [
  ['core', 'errors'],
  ['manifest', 'runtime', 'reconcile'],
  ['store'],
  ['observe', 'render', 'runtime/docker', 'secrets', 'source'],
  // Swarm is Docker's engine in swarm mode: it reuses the Docker implementation's images, logs, metrics.
  ['runtime/swarm', 'history'],
  ['controllers'],
  ['sim'],
  ['api'],
  ['daemon'],
  ['cli'],
  ['ui'],
];

/** The part a source file belongs to: ui, its top folder under src/, or runtime/<implementation>. */
function partOf(file: string): string {
  if (!relative(UI, file).startsWith('..')) return 'ui';
  const segments = relative(SRC, file).replace(/\.ts$/, '').split('/');
  if (segments[0] === 'runtime' && segments.length > 2) return `runtime/${segments[1]}`;
  return segments[0]!;
}

function layerOf(part: string): number {
  const layer = LAYERS.findIndex((parts) => parts.includes(part));
  if (layer < 0) throw new Error(`src/${part} is in no layer: add it to LAYERS (and to docs/design.md)`);
  return layer;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
}

const files = [...sourceFiles(SRC), ...sourceFiles(UI)];

describe('layers', () => {
  it('every import between parts of src/ and ui/ points to a lower layer', () => {
    const violations: string[] = [];
    let crossings = 0;
    for (const file of files) {
      const from = partOf(file);
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const to = partOf(normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
        if (to === from) continue;
        crossings += 1;
        if (layerOf(to) >= layerOf(from)) violations.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
      }
    }
    expect(violations).toEqual([]);
    expect(crossings).toBeGreaterThan(100); // the scan saw the tree's imports
  });

  it('only the runtime implementations import dockerode', () => {
    const implementations = ['runtime/docker', 'runtime/swarm'];
    const offenders = files.filter((file) => !implementations.includes(partOf(file)) && importsOf(file).includes('dockerode'));
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('core imports no other part but errors (it is the shared vocabulary, free of I/O)', () => {
    const offenders = files
      .filter((file) => partOf(file) === 'core')
      .flatMap((file) => importsOf(file).filter((spec) => spec.startsWith('node:') || (!spec.startsWith('.') && spec !== 'dockerode')).map((spec) => `${relative(SRC, file)}: ${spec}`));
    expect(offenders).toEqual([]);
  });
});
