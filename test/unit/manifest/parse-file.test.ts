import { describe, expect, it } from 'vitest';
import { parseManifestFile } from '../../../src/manifest/parse-file.js';
import { FULL_EXAMPLE, minimal, minimalYaml } from './fixtures.js';

describe('parseManifestFile', () => {
  it('loads the full seed example from YAML', () => {
    const { apps, errors } = parseManifestFile('apps/my-app.yaml', FULL_EXAMPLE);
    expect(errors).toEqual([]);
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({ file: 'apps/my-app.yaml', document: 0 });
    expect(apps[0]?.manifest.spec.env[2]).toEqual({ name: 'API_TOKEN', valueFrom: { env: 'CONTROLLER_API_TOKEN' } });
  });

  it('loads several documents, skips empty ones, and keeps document indexes', () => {
    const text = `---\n${minimalYaml('a')}---\n# only a comment\n---\n${minimalYaml('b')}---\n`;
    const { apps, errors } = parseManifestFile('multi.yml', text);
    expect(errors).toEqual([]);
    expect(apps.map((a) => [a.manifest.metadata.name, a.document])).toEqual([['a', 0], ['b', 2]]);
  });

  it('loads the valid documents of a file and reports the invalid ones with app and index', () => {
    const bad = minimalYaml('b').replace('containerPort: 80', 'containerPort: 99999');
    const { apps, errors } = parseManifestFile('multi.yaml', `${minimalYaml('a')}---\n${bad}`);
    expect(apps.map((a) => a.manifest.metadata.name)).toEqual(['a']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'multi.yaml', path: '/spec/ports/0/containerPort', app: 'b', document: 1 });
  });

  it('reports broken YAML once, with its line, for the whole file', () => {
    const text = `${minimalYaml('a')}---\napiVersion: v1\nkind: App\nmetadata: {name: b\nspec: []\n`;
    const { apps, errors } = parseManifestFile('broken.yaml', text);
    expect(apps).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe('');
    expect(errors[0]?.document).toBeUndefined();
    expect(errors[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it('rejects duplicate keys in YAML', () => {
    const { errors } = parseManifestFile('dup.yaml', `${minimalYaml('a')}kind: App\n`);
    expect(errors[0]?.message).toMatch(/YAML syntax error at line 10.*duplicated mapping key/);
  });

  it('refuses alias bombs', () => {
    const levels = Array.from({ length: 60 }, (_, i) => `l${i + 1}: &l${i + 1} [*l${i}, *l${i}]`).join('\n');
    const { errors } = parseManifestFile('bomb.yaml', `l0: &l0 [x]\n${levels}\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe('');
  });

  it('reports an unknown kind at /kind with the app name', () => {
    const { apps, errors } = parseManifestFile('svc.yaml', minimalYaml('web').replace('kind: App', 'kind: Service'));
    expect(apps).toEqual([]);
    expect(errors).toEqual([{ file: 'svc.yaml', path: '/kind', message: 'unknown kind "Service" (expected "App")', app: 'web', document: 0 }]);
  });

  it('names unknown keys in the path', () => {
    const { errors } = parseManifestFile('t.yaml', minimalYaml('web').replace('  type: http', '  type: http\n  replica: 3'));
    expect(errors.map((e) => e.path)).toEqual(['/spec/replica']);
  });

  it('reads JSON: one object or a list', () => {
    const one = parseManifestFile('a.json', JSON.stringify(minimal('a')));
    expect(one.errors).toEqual([]);
    expect(one.apps.map((a) => a.manifest.metadata.name)).toEqual(['a']);
    const many = parseManifestFile('b.json', JSON.stringify([minimal('a'), minimal('b')]));
    expect(many.apps.map((a) => [a.manifest.metadata.name, a.document])).toEqual([['a', 0], ['b', 1]]);
  });

  it('reports broken JSON with a line', () => {
    const { apps, errors } = parseManifestFile('a.json', '{\n  "kind": "App",\n  oops\n}');
    expect(apps).toEqual([]);
    expect(errors[0]?.message).toMatch(/^JSON syntax error( at line 3)?: /);
  });

  it('treats an empty file as declaring nothing', () => {
    expect(parseManifestFile('empty.yaml', '')).toEqual({ apps: [], errors: [] });
    expect(parseManifestFile('empty.yaml', '# nothing here\n')).toEqual({ apps: [], errors: [] });
  });
});
