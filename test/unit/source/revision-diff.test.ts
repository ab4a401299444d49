// diffLoadResults: which apps a revision changed, table-driven.
import { describe, expect, it } from 'vitest';
import type { AppManifest, LoadResult, ManifestError } from '../../../src/manifest/types.js';
import { changedApps, diffLoadResults, type RevisionDiff } from '../../../src/source/revision-diff.js';

function app(name: string, replicas = 1, file = `/repo/${name}.yaml`) {
  const manifest = { apiVersion: 'v1', kind: 'App', metadata: { name }, spec: { replicas, image: 'x' } } as unknown as AppManifest;
  return [name, { manifest, file, document: 0 }] as const;
}
function load(apps: ReturnType<typeof app>[], errors: ManifestError[] = [], fileCount = apps.length): LoadResult {
  return { apps: new Map(apps), errors, fileCount };
}
const none: RevisionDiff = { added: [], changed: [], removed: [], invalid: [] };

describe('diffLoadResults', () => {
  const rows: { name: string; previous: LoadResult | undefined; next: LoadResult; want: Partial<RevisionDiff> }[] = [
    { name: 'first revision: every app is added', previous: undefined, next: load([app('b'), app('a')]), want: { added: ['a', 'b'] } },
    { name: 'same manifests: nothing changed', previous: load([app('a')]), next: load([app('a')]), want: {} },
    { name: 'a changed field', previous: load([app('a', 1)]), next: load([app('a', 2)]), want: { changed: ['a'] } },
    { name: 'a moved file with the same manifest is unchanged', previous: load([app('a', 1, '/repo/a.yaml')]), next: load([app('a', 1, '/repo/x/a.yaml')]), want: {} },
    { name: 'a deleted file removes its app', previous: load([app('a'), app('b')]), next: load([app('a')]), want: { removed: ['b'] } },
    {
      name: 'an invalid document keeps its app (invalid, not removed)',
      previous: load([app('a'), app('b')]),
      next: load([app('a')], [{ file: '/repo/b.yaml', path: '/spec/replicas', message: 'must be integer', app: 'b', document: 0 }], 2),
      want: { invalid: ['b'] },
    },
    {
      name: 'an unreadable file keeps what it declared',
      previous: load([app('a'), app('b')]),
      next: load([app('a')], [{ file: '/repo/b.yaml', path: '', message: 'YAML syntax error' }], 2),
      want: { invalid: ['b'] },
    },
    { name: 'an empty tree lists every app as removed (the prune guard decides)', previous: load([app('a'), app('b')]), next: load([], [], 0), want: { removed: ['a', 'b'] } },
    {
      name: 'a new invalid app is invalid, not added',
      previous: load([]),
      next: load([], [{ file: '/repo/c.yaml', path: '/spec', message: 'bad', app: 'c', document: 0 }], 1),
      want: { invalid: ['c'] },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(diffLoadResults(row.previous, row.next)).toEqual({ ...none, ...row.want });
    });
  }

  it('changedApps is the sorted union', () => {
    expect(changedApps({ added: ['c'], changed: ['a'], removed: ['b'], invalid: ['a'] })).toEqual(['a', 'b', 'c']);
  });
});
