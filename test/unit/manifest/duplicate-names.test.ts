// Two documents claiming one app name: the load alone can't tell which is meant; the document that
// held the name before keeps it, so a newcomer copying a running app's name can't freeze that app.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { settleClashes } from '../../../src/manifest/duplicate-names.js';
import { DesiredState } from '../../../src/manifest/desired-state.js';
import { loadManifestDirectory } from '../../../src/manifest/load-directory.js';
import { minimalYaml, withTempDir } from './fixtures.js';

describe('settleClashes', () => {
  it('the earlier holder keeps its app and gets its edits; only the newcomer is in error', async () => {
    await withTempDir(async (dir) => {
      const holder = path.join(dir, 'web.yaml');
      const newcomer = path.join(dir, 'copy.yaml');
      await writeFile(holder, minimalYaml('web', 'web:1'));
      const desired = new DesiredState();
      const settle = (load: Parameters<typeof settleClashes>[0]) => settleClashes(load, (app) => desired.get(app)?.file);
      desired.apply(settle(await loadManifestDirectory(dir)));
      expect(desired.get('web')?.manifest.spec.image).toBe('web:1');

      await writeFile(newcomer, minimalYaml('web', 'evil:1'));
      await writeFile(holder, minimalYaml('web', 'web:2'));
      const raw = await loadManifestDirectory(dir);
      expect(raw.apps.has('web')).toBe(false); // the load alone refuses both
      const settled = settle(raw);
      const applied = desired.apply(settled);
      expect(applied.changed).toEqual(['web']);
      expect(desired.get('web')?.manifest.spec.image).toBe('web:2');
      expect(desired.get('web')?.file).toBe(holder);
      expect(settled.errors.map((e) => e.file)).toEqual([newcomer]);
      expect(settled.errors[0]!.message).toContain('already declared in');
      expect(settled.errors[0]!.message).toContain('web.yaml');
      expect(raw.errors).toHaveLength(2); // the load itself is not changed
    });
  });

  it('a name no document held before stays unloaded, every claim in error', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'a.yaml'), minimalYaml('web'));
      await writeFile(path.join(dir, 'b.yaml'), minimalYaml('web'));
      const settled = settleClashes(await loadManifestDirectory(dir), () => undefined);
      expect(settled.apps.has('web')).toBe(false);
      expect(settled.errors).toHaveLength(2);
      for (const e of settled.errors) expect(e.message).toContain('none is applied until only one remains');
    });
  });

  it('two claims inside the holder file settle nothing (the holder file itself is ambiguous)', async () => {
    await withTempDir(async (dir) => {
      const holder = path.join(dir, 'web.yaml');
      await writeFile(holder, `${minimalYaml('web')}\n---\n${minimalYaml('web')}`);
      const settled = settleClashes(await loadManifestDirectory(dir), () => holder);
      expect(settled.apps.has('web')).toBe(false);
      expect(settled.errors).toHaveLength(2);
    });
  });
});
