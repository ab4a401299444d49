import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatManifestError, validatePaths } from '../../../src/manifest/validate-paths.js';
import { minimalYaml, withTempDir } from './fixtures.js';

describe('validatePaths', () => {
  it('returns no errors for valid files and directories', async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, 'sub'));
      await writeFile(path.join(dir, 'sub', 'a.yaml'), minimalYaml('a'));
      await writeFile(path.join(dir, 'b.yaml'), minimalYaml('b'));
      expect(await validatePaths([path.join(dir, 'sub'), path.join(dir, 'b.yaml')])).toEqual([]);
    });
  });

  it('finds duplicate names across the given paths, counting a file given twice once (sorted by path)', async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, 'x'));
      await writeFile(path.join(dir, 'x', 'a.yaml'), minimalYaml('web'));
      await writeFile(path.join(dir, 'b.yaml'), minimalYaml('web'));
      const errors = await validatePaths([path.join(dir, 'x'), path.join(dir, 'x', 'a.yaml'), path.join(dir, 'b.yaml')]);
      expect(errors.map((e) => [path.basename(e.file), e.path])).toEqual([
        ['b.yaml', '/metadata/name'],
        ['a.yaml', '/metadata/name'],
      ]);
    });
  });

  it('reports missing paths and invalid documents', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'bad.yaml'), `${minimalYaml('a')}---\n${minimalYaml('b').replace('image: nginx:1.27', 'image: "bad image"')}`);
      const errors = await validatePaths([path.join(dir, 'missing.yaml'), path.join(dir, 'bad.yaml')]);
      expect(errors).toHaveLength(2);
      expect(errors[0]).toMatchObject({ path: '', message: 'no such file or directory' });
      expect(errors[1]).toMatchObject({ path: '/spec/image', document: 1, app: 'b' });
    });
  });
});

describe('formatManifestError', () => {
  it('formats file, document index after the first, path and message on one line', () => {
    expect(formatManifestError({ file: 'a.yaml', path: '/spec/image', message: 'bad', document: 0 })).toBe('a.yaml: /spec/image: bad');
    expect(formatManifestError({ file: 'a.yaml', path: '/spec/image', message: 'bad', document: 1 })).toBe('a.yaml[1]: /spec/image: bad');
    expect(formatManifestError({ file: 'a.yaml', path: '', message: 'YAML syntax error' })).toBe('a.yaml: (document): YAML syntax error');
    expect(formatManifestError({ file: 'a.yaml', path: '', message: 'x\ny' })).toBe('a.yaml: (document): x\\ny');
  });
});
