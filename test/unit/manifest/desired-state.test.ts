import { describe, expect, it } from 'vitest';
import { DesiredState } from '../../../src/manifest/desired-state.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import type { LoadedApp, LoadResult, ManifestError } from '../../../src/manifest/types.js';
import { minimal } from './fixtures.js';

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
});
