// Edits by the write API and the CLI (issue 11, item 11): mode and owner kept, only inside the
// manifests directory, no lost update between concurrent editors.
import { chown, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { editAppManifest, ManifestEditError, setReplicas } from '../../../src/manifest/edit-manifest.js';
import { ConcurrentChangeError, replaceManifestFile } from '../../../src/manifest/manifest-file-write.js';
import { minimalYaml, withTempDir } from './fixtures.js';

describe('editAppManifest and the file it writes', () => {
  it('keeps the mode and the owner of the file', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'web.yaml');
      await writeFile(file, minimalYaml('web'), { mode: 0o640 });
      const root = process.getuid?.() === 0;
      if (root) await chown(file, 4321, 4321);
      await editAppManifest(dir, 'web', setReplicas(3));
      const after = await stat(file);
      expect(after.mode & 0o777).toBe(0o640);
      if (root) expect([after.uid, after.gid]).toEqual([4321, 4321]);
      expect((load(await readFile(file, 'utf8')) as { spec: { replicas: number } }).spec.replicas).toBe(3);
    });
  });

  it('never reads or edits a symlink that points outside the manifests directory, and follows one inside', async () => {
    await withTempDir(async (root) => {
      const dir = path.join(root, 'manifests');
      await mkdir(path.join(dir, 'real'), { recursive: true });
      const outside = path.join(root, 'outside.yaml');
      await writeFile(outside, minimalYaml('evil'));
      await symlink(outside, path.join(dir, 'evil.yaml'));
      await writeFile(path.join(dir, 'real', 'inner.yaml'), minimalYaml('inner'));
      await symlink(path.join(dir, 'real', 'inner.yaml'), path.join(dir, 'inner-link.yaml'));

      const refused = await editAppManifest(dir, 'evil', setReplicas(5)).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ManifestEditError);
      // The loader refuses the link unread, so nothing in the directory declares the app.
      expect(refused).toMatchObject({ code: 'AppNotFound' });
      expect(await readFile(outside, 'utf8')).toBe(minimalYaml('evil'));

      await editAppManifest(dir, 'inner', setReplicas(2));
      expect((load(await readFile(path.join(dir, 'real', 'inner.yaml'), 'utf8')) as { spec: { replicas: number } }).spec.replicas).toBe(2);
    });
  });

  it('refuses to edit an app that two documents declare (which one runs is the loader\'s call), and writes nothing', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'victim.yaml'), minimalYaml('victim'));
      await writeFile(path.join(dir, 'a-copy.yaml'), minimalYaml('victim'));
      const refused = await editAppManifest(dir, 'victim', setReplicas(0)).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'Conflict' });
      expect((refused as Error).message).toMatch(/2 manifests declare an app named "victim" \(a-copy\.yaml, victim\.yaml\)/);
      expect(await readFile(path.join(dir, 'victim.yaml'), 'utf8')).toBe(minimalYaml('victim'));
      expect(await readFile(path.join(dir, 'a-copy.yaml'), 'utf8')).toBe(minimalYaml('victim'));

      await writeFile(path.join(dir, 'a-copy.yaml'), `${minimalYaml('other')}---\n${minimalYaml('twice')}---\n${minimalYaml('twice')}`);
      await expect(editAppManifest(dir, 'twice', setReplicas(2))).rejects.toMatchObject({ code: 'Conflict' });
    });
  });

  it('loses no update when many edits of one file run at once', async () => {
    await withTempDir(async (dir) => {
      const names = ['a', 'b', 'c', 'd', 'e', 'f'];
      const file = path.join(dir, 'multi.yaml');
      await writeFile(file, names.map((n) => minimalYaml(n)).join('---\n'));
      await Promise.all(names.map((n, i) => editAppManifest(dir, n, setReplicas(i + 1))));
      const docs = loadAll(await readFile(file, 'utf8')) as { metadata: { name: string }; spec: { replicas?: number } }[];
      expect(docs.map((d) => [d.metadata.name, d.spec.replicas])).toEqual(names.map((n, i) => [n, i + 1]));
    });
  });

  it('never writes over a change made since the file was read', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'web.yaml');
      await writeFile(file, 'changed by a person\n');
      await expect(replaceManifestFile(file, 'ours\n', 'what we read\n')).rejects.toBeInstanceOf(ConcurrentChangeError);
      expect(await readFile(file, 'utf8')).toBe('changed by a person\n');
    });
  });
});
