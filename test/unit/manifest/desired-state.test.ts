import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DesiredState } from '../../../src/manifest/desired-state.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import { loadManifestTexts, type FileText } from '../../../src/manifest/load-directory.js';
import type { LoadedApp, LoadResult, ManifestError } from '../../../src/manifest/types.js';
import { minimal, minimalYaml } from './fixtures.js';

function app(name: string, image = 'nginx:1', file = `${name}.yaml`): LoadedApp {
  return { manifest: applyDefaults(minimal(name, image)), file, document: 0 };
}

function result(apps: LoadedApp[], errors: ManifestError[] = [], fileCount = Math.max(1, apps.length)): LoadResult {
  return { apps: new Map(apps.map((a) => [a.manifest.metadata.name, a])), errors, fileCount };
}

describe('DesiredState', () => {
  it('reports new and changed apps, and nothing when nothing changed', () => {
    const state = new DesiredState();
    expect(state.apply(result([app('a'), app('b')]))).toEqual({ changed: ['a', 'b'], removed: [], invalid: [] });
    expect(state.apply(result([app('a'), app('b')]))).toEqual({ changed: [], removed: [], invalid: [] });
    expect(state.apply(result([app('a', 'nginx:2'), app('b')]))).toEqual({ changed: ['a'], removed: [], invalid: [] });
    expect(state.get('a')?.manifest.spec.image).toBe('nginx:2');
    expect(state.all().map((a) => a.manifest.metadata.name)).toEqual(['a', 'b']);
  });

  it('ignores key order when comparing manifests', () => {
    const state = new DesiredState();
    state.apply(result([app('a')]));
    const reversed = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reversed);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
    };
    const original = app('a');
    const reordered: LoadedApp = { ...original, manifest: reversed(original.manifest) as LoadedApp['manifest'] };
    expect(Object.keys(reordered.manifest)[0]).toBe('spec');
    expect(state.apply(result([reordered])).changed).toEqual([]);
  });

  it('keeps the last good spec of an app whose update is invalid', () => {
    const state = new DesiredState();
    state.apply(result([app('a'), app('b')]));
    const error: ManifestError = { file: 'a.yaml', path: '/spec/replica', message: 'unknown field', app: 'a', document: 0 };
    expect(state.apply(result([app('b')], [error], 2))).toEqual({ changed: [], removed: [], invalid: ['a'] });
    expect(state.get('a')?.manifest.spec.image).toBe('nginx:1');
    expect(state.errorsFor('a')).toEqual([error]);
    expect(state.errorsFor('b')).toEqual([]);
    // Fixed: errors clear, and the app is updated.
    expect(state.apply(result([app('a', 'nginx:3'), app('b')]))).toEqual({ changed: ['a'], removed: [], invalid: [] });
    expect(state.errors()).toEqual([]);
  });

  it('lists an app that was never valid as invalid, with nothing to keep', () => {
    const state = new DesiredState();
    const error: ManifestError = { file: 'n.yaml', path: '/spec/image', message: 'bad', app: 'new', document: 0 };
    expect(state.apply(result([], [error], 1))).toEqual({ changed: [], removed: [], invalid: ['new'] });
    expect(state.get('new')).toBeUndefined();
  });

  it('removes an app whose document is gone', () => {
    const state = new DesiredState();
    state.apply(result([app('a'), app('b')]));
    expect(state.apply(result([app('b')]))).toEqual({ changed: [], removed: ['a'], invalid: [] });
    expect(state.get('a')).toBeUndefined();
    expect(state.pruneBlocked).toBe(false);
  });

  it('blocks pruning on an empty directory unless allowed', () => {
    const state = new DesiredState();
    state.apply(result([app('a'), app('b')]));
    expect(state.apply({ apps: new Map(), errors: [], fileCount: 0 })).toEqual({ changed: [], removed: [], invalid: [] });
    expect(state.pruneBlocked).toBe(true);
    expect(state.pruneBlockedReason).toMatch(/no manifest files found; keeping 2 app\(s\) \(a, b\)/);
    expect(state.all()).toHaveLength(2);
    // The next normal load clears the flag.
    state.apply(result([app('a'), app('b')]));
    expect(state.pruneBlocked).toBe(false);

    const permissive = new DesiredState({ allowEmptyPrune: true });
    permissive.apply(result([app('a')]));
    expect(permissive.apply({ apps: new Map(), errors: [], fileCount: 0 }).removed).toEqual(['a']);
    expect(permissive.pruneBlocked).toBe(false);
  });

  it('keeps the apps of a file that no longer parses', () => {
    const state = new DesiredState();
    state.apply(result([app('a', 'nginx:1', 'multi.yaml'), app('b', 'nginx:1', 'multi.yaml'), app('c')]));
    const broken: ManifestError = { file: 'multi.yaml', path: '', message: 'YAML syntax error at line 3, column 1: bad' };
    expect(state.apply(result([app('c')], [broken], 2))).toEqual({ changed: [], removed: [], invalid: ['a', 'b'] });
    expect(state.get('a')).toBeDefined();
    expect(state.errorsFor('a')).toEqual([broken]);
    expect(state.errorsForFile('multi.yaml')).toEqual([broken]);
    // Once it parses again without b, b is removed.
    expect(state.apply(result([app('a', 'nginx:1', 'multi.yaml'), app('c')]))).toEqual({ changed: [], removed: ['b'], invalid: [] });
  });

  it('keeps the apps of every file under a directory that cannot be read, and names its error', () => {
    const state = new DesiredState();
    state.apply(result([app('a', 'nginx:1', '/m/team/a.yaml'), app('b', 'nginx:1', '/m/team/deep/b.yaml'), app('c', 'nginx:1', '/m/teamc.yaml')]));
    const unreadable: ManifestError = { file: '/m/team', path: '', message: 'cannot read this directory (EACCES)' };
    expect(state.apply(result([], [unreadable], 1))).toEqual({ changed: [], removed: ['c'], invalid: ['a', 'b'] });
    expect(state.errorsFor('b')).toEqual([unreadable]);
    expect(state.errorsFor('a')).toEqual([unreadable]);
  });

  it('keeps the app of a document whose name can no longer be read', () => {
    const state = new DesiredState();
    state.apply(result([app('web'), app('other')]));
    // metadata mis-indented: the document says nothing about which app it is.
    const nameless: ManifestError = { file: 'web.yaml', path: '/metadata', message: 'must be object', document: 0 };
    expect(state.apply(result([app('other')], [nameless], 2))).toEqual({ changed: [], removed: [], invalid: ['web'] });
    expect(state.get('web')).toBeDefined();
  });

  it('keeps an app claimed twice (duplicate name) at its last good spec', () => {
    const state = new DesiredState();
    state.apply(result([app('web')]));
    const dup = (file: string): ManifestError => ({ file, path: '/metadata/name', message: 'declared more than once', app: 'web', document: 0 });
    expect(state.apply(result([], [dup('one.yaml'), dup('two.yaml')], 2))).toEqual({ changed: [], removed: [], invalid: ['web'] });
    expect(state.get('web')).toBeDefined();
  });

  it('keeps an app renamed inside a file that also has an error (the file may still mean it)', () => {
    const state = new DesiredState();
    state.apply(result([app('web')]));
    const renamedBad: ManifestError = { file: 'web.yaml', path: '/spec/replicas', message: 'must be >= 0', app: 'web2', document: 0 };
    expect(state.apply(result([], [renamedBad], 1))).toEqual({ changed: [], removed: [], invalid: ['web', 'web2'] });
    expect(state.get('web')).toBeDefined();
    expect(state.errorsFor('web')).toEqual([renamedBad]);
    // Renamed and valid: the new name is created, the old one removed.
    expect(state.apply(result([app('web2', 'nginx:1', 'web.yaml')]))).toEqual({ changed: ['web2'], removed: ['web'], invalid: [] });
  });

  it('remembered specs (a previous run) are kept, changed and removed by the same rules as loaded ones', () => {
    const state = new DesiredState();
    state.remember([app('a'), app('b'), app('c')]);
    expect(state.mayPrune('zombie')).toBe(false); // nothing is pruned before the first load
    const broken: ManifestError = { file: 'b.yaml', path: '', message: 'YAML syntax error at line 1, column 1: bad' };
    const schema: ManifestError = { file: 'a.yaml', path: '/spec/image', message: 'bad', app: 'a', document: 0 };
    // a: schema error, b: broken YAML, c: its file vanished from a readable directory.
    expect(state.apply(result([], [schema, broken], 2))).toEqual({ changed: [], removed: ['c'], invalid: ['a', 'b'] });
    expect(state.get('a')?.manifest.spec.image).toBe('nginx:1');
    expect(state.get('b')).toBeDefined();
    expect(state.mayPrune('c')).toBe(true);
  });

  it('mayPrune: replicas of an app nobody remembers go only when every file loaded cleanly', () => {
    const state = new DesiredState();
    state.apply(result([app('a')]));
    expect(state.mayPrune('a')).toBe(false); // held
    expect(state.mayPrune('orphan')).toBe(true);
    const broken: ManifestError = { file: 'x.yaml', path: '', message: 'YAML syntax error' };
    state.apply(result([app('a')], [broken], 2));
    expect(state.mayPrune('orphan')).toBe(false); // x.yaml might declare it
    const named: ManifestError = { file: 'x.yaml', path: '/spec/image', message: 'bad', app: 'orphan', document: 0 };
    state.apply(result([app('a')], [named], 2));
    expect(state.mayPrune('orphan')).toBe(false);
    state.apply({ apps: new Map(), errors: [], fileCount: 0 });
    expect(state.mayPrune('orphan')).toBe(false); // prune guard: no manifest files
    state.apply(result([app('a')]));
    expect(state.mayPrune('orphan')).toBe(true);
  });
});

describe('DesiredState.wouldRemove (the watcher re-reads such a load before delivering it)', () => {
  it('names what apply would remove, and changes nothing', () => {
    const state = new DesiredState();
    state.apply(result([app('a'), app('b')]));
    expect(state.wouldRemove(result([app('b')]))).toEqual(['a']);
    expect(state.wouldRemove({ apps: new Map(), errors: [], fileCount: 0 })).toEqual([]); // prune guard
    expect(state.wouldRemove(result([app('b')], [{ file: 'a.yaml', path: '', message: 'YAML syntax error' }], 2))).toEqual([]);
    expect(state.all()).toHaveLength(2);
  });
});

// Properties over random manifest directories, loaded through the real parser (loadManifestTexts).
// Each file is one of: valid documents, a schema error naming an app, a document without a name,
// broken YAML, an unreadable file, or an empty file.
const NAMES = ['a', 'b', 'c', 'd'];
const FILES = ['one.yaml', 'two.yaml', 'three.yaml'];
type FileContent =
  | { kind: 'valid'; apps: { name: string; image: number }[] }
  | { kind: 'schema'; name: string }
  | { kind: 'nameless' }
  | { kind: 'yaml' }
  | { kind: 'unreadable' }
  | { kind: 'empty' };

const fileContent: fc.Arbitrary<FileContent> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('valid' as const), apps: fc.array(fc.record({ name: fc.constantFrom(...NAMES), image: fc.integer({ min: 1, max: 3 }) }), { maxLength: 2 }) }) },
  fc.record({ kind: fc.constant('schema' as const), name: fc.constantFrom(...NAMES) }),
  fc.constant({ kind: 'nameless' as const }),
  fc.constant({ kind: 'yaml' as const }),
  fc.constant({ kind: 'unreadable' as const }),
  fc.constant({ kind: 'empty' as const }),
);
/** A directory: each file present with some content, or absent. */
const directory = fc.tuple(...FILES.map(() => fc.option(fileContent, { nil: undefined })));

function textOf(file: string, content: FileContent): FileText {
  switch (content.kind) {
    case 'valid':
      return { file, text: content.apps.map((a) => minimalYaml(a.name, `img:${a.image}`)).join('---\n') };
    case 'schema':
      return { file, text: minimalYaml(content.name).replace('type: http', 'type: http\n  replicas: -1') };
    case 'nameless':
      return { file, text: minimalYaml('x').replace('  name: x\n', '') };
    case 'yaml':
      return { file, text: 'apiVersion: v1\nspec: [unclosed\n' };
    case 'unreadable':
      return { file, text: { file, path: '', message: 'cannot read file (EACCES)' } };
    case 'empty':
      return { file, text: '' };
  }
}

function load(dir: (FileContent | undefined)[]): LoadResult {
  return loadManifestTexts(dir.flatMap((content, i) => (content ? [textOf(FILES[i]!, content)] : [])));
}

const names = (state: DesiredState) => state.all().map((a) => a.manifest.metadata.name);

describe('DesiredState properties', () => {
  it('an app leaves only when its last good file is gone or loads without any error, and no error names it', () => {
    fc.assert(
      fc.property(fc.array(directory, { minLength: 1, maxLength: 6 }), (dirs) => {
        const state = new DesiredState();
        for (const dir of dirs) {
          const before = new Map(state.all().map((a) => [a.manifest.metadata.name, a.file]));
          const result = load(dir);
          const predicted = state.wouldRemove(result);
          const { removed } = state.apply(result);
          expect(removed).toEqual(predicted);
          const filesWithErrors = new Set(result.errors.map((e) => e.file));
          for (const name of removed) {
            expect(result.fileCount).toBeGreaterThan(0);
            expect(filesWithErrors.has(before.get(name)!)).toBe(false);
            expect(result.errors.some((e) => e.app === name)).toBe(false);
            expect(result.apps.has(name)).toBe(false);
          }
          // Every app the load declares validly is held at exactly that spec.
          for (const [name, loaded] of result.apps) expect(state.get(name)).toBe(loaded);
          // Nothing the registry holds is pruned; nothing named by an error is pruned.
          for (const name of NAMES) {
            if (state.get(name) || result.errors.some((e) => e.app === name)) expect(state.mayPrune(name)).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a restart that remembers the last good specs ends where the live registry ends, for any next load', () => {
    fc.assert(
      fc.property(fc.array(directory, { minLength: 1, maxLength: 4 }), directory, (history, next) => {
        const live = new DesiredState();
        for (const dir of history) live.apply(load(dir));
        const restarted = new DesiredState();
        restarted.remember(live.all());
        const result = load(next);
        expect(restarted.apply(result)).toEqual(live.apply(result));
        expect(names(restarted)).toEqual(names(live));
        for (const app of live.all()) expect(restarted.get(app.manifest.metadata.name)?.manifest).toEqual(app.manifest);
      }),
      { numRuns: 300 },
    );
  });
});
