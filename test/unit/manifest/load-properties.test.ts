// Properties of the load path the watcher uses (loadManifestDirectory), over random and mutated
// manifests: wrong types, huge and tiny numbers, unicode, control characters, deep nesting,
// aliases, duplicate keys, junk bytes. Whatever one file holds, the load never throws, each file
// costs bounded time and a bounded result, every error names its file (and a field path, for field
// errors) in printable words, and no file changes another file's result.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { stableJson } from '../../../src/core/stable-json.js';
import { MAX_DOCUMENT_CHARS } from '../../../src/manifest/document-limits.js';
import { loadManifestDirectory } from '../../../src/manifest/load-directory.js';
import { parseManifestFile } from '../../../src/manifest/parse-file.js';
import type { LoadResult } from '../../../src/manifest/types.js';
import { MAX_ERRORS_PER_DOCUMENT } from '../../../src/manifest/validate-manifest.js';
import { FULL_EXAMPLE, minimal, minimalYaml, withTempDir } from './fixtures.js';

/** Per file: parse and validate well within this (a manifest takes about a millisecond). */
const MAX_MS_PER_FILE = 1_000;
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

// ---- generators -------------------------------------------------------------------------------

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('\n', '\r', '\u001b', '\u0000', '\u2028', '\u202e', '$', ';', '{', '}', '"', "'", '~', '/', 'a'), maxLength: 30 }),
  fc.constantFrom('', ' ', 'NaN', '1.0', 'true', 'null', '__proto__', 'constructor', '0x1F', 'x'.repeat(5000)),
);

const hostileNumber = fc.oneof(
  fc.double(), // NaN, ±Infinity, -0, subnormals, huge
  fc.integer(),
  fc.constantFrom(0, -1, 1e-12, 1e300, Number.MAX_SAFE_INTEGER + 2, 0.4, 65536),
);

const deep = fc.integer({ min: 1, max: 3_000 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { d: value };
  return value;
});

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  deep,
  fc.array(hostileString, { maxLength: 5 }),
  fc.dictionary(hostileString, hostileNumber, { maxKeys: 4 }),
  fc.anything({ maxDepth: 3 }),
);

/** A path into a manifest: where a mutation lands (existing fields and new ones). */
const fieldPath = fc.oneof(
  fc.constantFrom(
    ['kind'], ['apiVersion'], ['metadata'], ['metadata', 'name'], ['metadata', 'labels'], ['spec'], ['spec', 'image'],
    ['spec', 'ports'], ['spec', 'ports', '0', 'containerPort'], ['spec', 'replicas'], ['spec', 'resources', 'cpu'],
    ['spec', 'resources', 'memory'], ['spec', 'env'], ['spec', 'env', '0', 'name'], ['spec', 'env', '0', 'valueFrom'],
    ['spec', 'ingress', 'host'], ['spec', 'ingress', 'pathPrefix'], ['spec', 'scaling', 'policy', 'http'],
    ['spec', 'health', 'httpGet', 'port'], ['spec', 'command'],
  ),
  fc.array(hostileString, { minLength: 1, maxLength: 3 }),
);

/** Sets a nested own property (keys such as "__proto__" become plain keys, as a parser makes them). */
function setPath(doc: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  const own = (node: Record<string, unknown>, key: string, v: unknown) =>
    Object.defineProperty(node, key, { value: v, enumerable: true, writable: true, configurable: true });
  let node: Record<string, unknown> = doc;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else node = own(node, key, {})[key] as Record<string, unknown>;
  }
  own(node, keys[keys.length - 1]!, value);
}

/** A valid manifest with random fields replaced, written as YAML or JSON. */
const mutatedManifest = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
    mutations: fc.array(fc.tuple(fieldPath, hostileValue), { maxLength: 4 }),
    json: fc.boolean(),
  })
  .map(({ name, mutations, json }) => {
    const doc = structuredClone(minimal(`rnd-${name}`)) as Record<string, unknown>;
    (doc.spec as Record<string, unknown>).env = [{ name: 'A', value: 'x' }];
    for (const [keys, value] of mutations) setPath(doc, keys, value);
    const text = json ? safeJson(doc) : safeYaml(doc);
    return { text, json };
  });

/** Text-level damage: junk bytes, duplicate keys, aliases, nesting, BOMs, spliced at random places. */
const damage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\nkind: App\n', '\n  image: a\n  image: b\n', '\u0000\u00ff\ufffe', '\uFEFF', '- - - -', '{{{{', ']]]', ':::', '!!binary AAAA', '*undefined', '&a [*a]', '\t\t'),
  fc.integer({ min: 1, max: 5000 }).map((n) => '['.repeat(n)),
  fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2, max: 6 })).map(([levels, fan]) => aliasBomb(levels, fan)),
);

const damagedText = fc
  .record({ base: fc.oneof(mutatedManifest, fc.constant({ text: FULL_EXAMPLE, json: false })), cuts: fc.array(fc.tuple(fc.nat(), damage), { maxLength: 3 }) })
  .map(({ base, cuts }) => {
    let text = base.text;
    for (const [at, junk] of cuts) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + junk + text.slice(i);
    }
    return { text, json: base.json };
  });

const hostileFile = fc.oneof(mutatedManifest, damagedText);

/** `levels` of anchors, each a list of `fan` aliases of the one before: fan^levels values. */
function aliasBomb(levels: number, fan: number): string {
  const lines = [`b0: &b0 [${Array.from({ length: fan }, () => 'x').join(', ')}]`];
  for (let i = 1; i <= levels; i++) lines.push(`b${i}: &b${i} [${Array.from({ length: fan }, () => `*b${i - 1}`).join(', ')}]`);
  return `\n${lines.join('\n')}\nkind: *b${levels}\n`;
}

function safeYaml(doc: unknown): string {
  try {
    return dump(doc, { noRefs: true, skipInvalid: true, flowLevel: 4 }); // flow below: deep values stay small text
  } catch {
    return safeJson(doc); // JSON is YAML too
  }
}

function safeJson(doc: unknown): string {
  try {
    return JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? 'null';
  } catch {
    return '{}';
  }
}

// ---- properties -------------------------------------------------------------------------------

function expectWellFormedErrors(result: LoadResult, files: string[]): void {
  for (const error of result.errors) {
    expect(files).toContain(error.file);
    expect(error.path === '' || error.path.startsWith('/')).toBe(true);
    expect(error.path).not.toMatch(UNPRINTABLE);
    expect(error.message).not.toMatch(UNPRINTABLE);
    expect(error.message.length).toBeLessThan(1_000);
  }
}

describe('the manifest load path, on random and mutated files', () => {
  it('never throws, stays bounded per file, and names the file (and field) of every error', () => {
    fc.assert(
      fc.property(hostileFile, ({ text, json }) => {
        const file = json ? 'random.json' : 'random.yaml';
        const started = performance.now();
        const parsed = parseManifestFile(file, text);
        expect(performance.now() - started).toBeLessThan(MAX_MS_PER_FILE);
        // What a file leaves in memory is bounded by the document limits, whatever its aliases.
        expect(stableJson(parsed).length).toBeLessThan(4 * MAX_DOCUMENT_CHARS);
        const documents = Math.max(1, new Set(parsed.errors.map((e) => e.document)).size);
        expect(parsed.errors.length).toBeLessThanOrEqual(documents * MAX_ERRORS_PER_DOCUMENT + documents);
        expectWellFormedErrors({ apps: new Map(), errors: parsed.errors, fileCount: 1 }, [file]);
        for (const app of parsed.apps) expect(app.file).toBe(file);
      }),
      { numRuns: 400 },
    );
  });

  it('never changes the result of another file in the same directory', async () => {
    await withTempDir(async (dir) => {
      const good = [path.join(dir, 'good-one.yaml'), path.join(dir, 'good-two.json')];
      await writeFile(good[0]!, minimalYaml('good-one'));
      await writeFile(good[1]!, JSON.stringify(minimal('good-two')));
      const alone = await loadManifestDirectory(dir);
      expect([...alone.apps.keys()]).toEqual(['good-one', 'good-two']);

      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(hostileFile, { minLength: 1, maxLength: 4 }), async (hostile) => {
          round += 1;
          const files = await Promise.all(hostile.map(async ({ text, json }, i) => {
            const file = path.join(dir, `r${round}`, `hostile-${i}.${json ? 'json' : 'yaml'}`);
            await mkdir(path.dirname(file), { recursive: true });
            await writeFile(file, text);
            return file;
          }));
          const result = await loadManifestDirectory(dir);
          for (const name of ['good-one', 'good-two']) {
            expect(stableJson(result.apps.get(name))).toBe(stableJson(alone.apps.get(name)));
          }
          expect(result.errors.filter((e) => good.includes(e.file))).toEqual([]);
          expectWellFormedErrors(result, [...good, ...files]);
          await rm(path.join(dir, `r${round}`), { recursive: true, force: true });
        }),
        { numRuns: 60 },
      );
    });
  });
});
