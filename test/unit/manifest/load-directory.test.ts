import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifestDirectory } from '../../../src/manifest/load-directory.js';
import { validatePaths } from '../../../src/manifest/validate-paths.js';
import { minimal, minimalYaml, withTempDir } from './fixtures.js';

/**
 * A directory under `dir` that cannot be read, for root too: its path is longer than the system
 * allows (made one step at a time, as a checkout or an author can). Returns its first level.
 */
function makeUnreadableDirectory(dir: string): string {
  const step = 'd'.repeat(200);
  execFileSync('bash', ['-c', `cd "$1" && mkdir deep && cd deep && for i in $(seq 25); do mkdir ${step} && cd ${step}; done && printf 'a: 1\\n' > x.yaml`, '-', dir]);
  return path.join(dir, 'deep');
}

/** Removes what makeUnreadableDirectory made (node's rm cannot walk a path that long). */
function removeDeep(dir: string): void {
  execFileSync('rm', ['-rf', path.join(dir, 'deep')]);
}

describe('loadManifestDirectory', () => {
  it('gives fileCount 0 for a missing directory, without throwing', async () => {
    await withTempDir(async (dir) => {
      const result = await loadManifestDirectory(path.join(dir, 'nope'));
      expect(result).toEqual({ apps: new Map(), errors: [], fileCount: 0, clashes: new Map() });
    });
  });

  it('reads yaml, yml and json recursively, skipping dotfiles, dot-dirs and other extensions', async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, 'team', 'deep'), { recursive: true });
      await mkdir(path.join(dir, '.git'));
      await writeFile(path.join(dir, 'a.yaml'), minimalYaml('a'));
      await writeFile(path.join(dir, 'team', 'b.yml'), minimalYaml('b'));
      await writeFile(path.join(dir, 'team', 'deep', 'c.json'), JSON.stringify(minimal('c')));
      await writeFile(path.join(dir, '.hidden.yaml'), minimalYaml('hidden'));
      await writeFile(path.join(dir, '.git', 'x.yaml'), minimalYaml('git'));
      await writeFile(path.join(dir, 'README.md'), '# not a manifest');
      await writeFile(path.join(dir, 'a.yaml.swp'), 'junk');
      await symlink(path.join(dir, 'team'), path.join(dir, 'loop'));
      const result = await loadManifestDirectory(dir);
      expect(result.errors).toEqual([]);
      expect(result.fileCount).toBe(3);
      expect([...result.apps.keys()].sort()).toEqual(['a', 'b', 'c']);
      expect(result.apps.get('c')?.file).toBe(path.join(dir, 'team', 'deep', 'c.json'));
    });
  });

  it('names a directory it cannot read, and loads every other file (validate shows all their errors)', async () => {
    await withTempDir(async (dir) => {
      makeUnreadableDirectory(dir);
      try {
        await writeFile(path.join(dir, 'a.yaml'), minimalYaml('a'));
        await writeFile(path.join(dir, 'z.yaml'), 'kind: Nope\n');
        const result = await loadManifestDirectory(dir);
        expect([...result.apps.keys()]).toEqual(['a']);
        expect(result.errors.map((e) => [e.file.slice(0, dir.length + 11), e.message.slice(0, 41)])).toEqual([
          [path.join(dir, 'deep', 'ddddd'), expect.stringMatching(/^cannot read this directory \(ENAMETOOLONG\)/)],
          [path.join(dir, 'z.yaml'), expect.any(String)],
        ]);
        expect((await validatePaths([dir])).map((e) => path.basename(e.file)).at(-1)).toBe('z.yaml');
      } finally {
        removeDeep(dir);
      }
    });
  });

  it('refuses unread what is not a regular file inside the directory, naming it; its text is in no error', async () => {
    await withTempDir(async (base) => {
      const dir = path.join(base, 'manifests');
      await mkdir(path.join(dir, '..data'), { recursive: true });
      const secret = 'tok-SECRET-0123456789';
      const outside = path.join(base, 'token');
      await writeFile(outside, `${secret}\n`);
      await writeFile(path.join(dir, '..data', 'c.yaml'), minimalYaml('c'));
      await symlink(outside, path.join(dir, 'a.yaml'));
      await symlink('../token', path.join(dir, 'b.json'));
      await symlink('..data/c.yaml', path.join(dir, 'c.yaml')); // inside (Kubernetes' layout): followed
      await symlink('nowhere.yaml', path.join(dir, 'd.yaml'));
      await symlink('e.yaml', path.join(dir, 'e.yaml'));
      execFileSync('mkfifo', [path.join(dir, 'f.yaml')]);
      await symlink('..data', path.join(dir, 'g.yaml'));
      await symlink('/proc/self/environ', path.join(dir, 'h.yaml'));
      // The directory itself may be reached through a symlink (a release switched by a link).
      await symlink(dir, path.join(base, 'current'));
      for (const root of [dir, path.join(base, 'current')]) {
        const result = await loadManifestDirectory(root);
        expect([...result.apps.keys()]).toEqual(['c']);
        const byFile = Object.fromEntries(result.errors.map((e) => [path.basename(e.file), e.message]));
        expect(byFile).toEqual({
          'a.yaml': expect.stringMatching(/outside the manifests directory/),
          'b.json': expect.stringMatching(/outside the manifests directory/),
          'd.yaml': expect.stringMatching(/ENOENT/),
          'e.yaml': expect.stringMatching(/ELOOP/),
          'f.yaml': expect.stringMatching(/not a regular file \(a FIFO\)/),
          'g.yaml': expect.stringMatching(/not a regular file \(a directory\)/),
          'h.yaml': expect.stringMatching(/outside the manifests directory/),
        });
        const shown = (await validatePaths([root])).map((e) => e.message).join('\n');
        expect(shown).not.toContain('SECRET');
        expect(shown).not.toContain('PATH=');
      }
      // A file the operator names on the command line is read wherever it is.
      expect((await validatePaths([outside]))[0]?.message).toMatch(/a string/);
    });
  });

  it('rejects a name declared in two files: an error on both, naming the other, and neither loaded', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'one.yaml'), minimalYaml('web', 'nginx:1'));
      await writeFile(path.join(dir, 'two.yaml'), `${minimalYaml('other')}---\n${minimalYaml('web', 'nginx:2')}`);
      const result = await loadManifestDirectory(dir);
      expect([...result.apps.keys()]).toEqual(['other']);
      expect(result.errors).toHaveLength(2);
      const [first, second] = result.errors;
      expect(first).toMatchObject({ file: path.join(dir, 'one.yaml'), document: 0, path: '/metadata/name', app: 'web' });
      expect(first?.message).toContain(`${path.join(dir, 'two.yaml')} (document 1)`);
      expect(second).toMatchObject({ file: path.join(dir, 'two.yaml'), document: 1, path: '/metadata/name', app: 'web' });
      expect(second?.message).toContain(path.join(dir, 'one.yaml'));
    });
  });

  it('counts an invalid document as a claim on its name', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'one.yaml'), minimalYaml('web'));
      await writeFile(path.join(dir, 'two.yaml'), minimalYaml('web').replace('type: http', 'type: tcp'));
      const result = await loadManifestDirectory(dir);
      expect(result.apps.size).toBe(0);
      expect(result.errors.filter((e) => e.path === '/metadata/name')).toHaveLength(2);
    });
  });

  it('refuses oversized files unread', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'big.yaml'), `# ${'x'.repeat(1024 * 1024 + 10)}\n`);
      const result = await loadManifestDirectory(dir);
      expect(result.fileCount).toBe(1);
      expect(result.errors[0]).toMatchObject({ path: '', message: expect.stringMatching(/limited to/) });
    });
  });
});
