// Hostile and careless manifests (issue 11, items 4-7): each one fails alone, fast, naming its file,
// and nothing it contains can forge or flood a printed line.
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejectDuplicateNames } from '../../../src/manifest/duplicate-names.js';
import { loadManifestDirectory, loadManifestFiles } from '../../../src/manifest/load-directory.js';
import { parseManifestFile, parseSingleDocument } from '../../../src/manifest/parse-file.js';
import type { LoadedApp } from '../../../src/manifest/types.js';
import { formatManifestError, validatePaths } from '../../../src/manifest/validate-paths.js';
import { minimal, minimalYaml, withTempDir } from './fixtures.js';

// Anything a terminal or a log reader could take for a line break or an escape sequence.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** 4^levels expansions from 4 * levels aliases: inside the alias limit, exponential when expanded. */
function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 [x, x, x, x]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
  return `${lines.join('\n')}\napiVersion: v1\nkind: *a${levels}\nmetadata: {name: bomb}\n`;
}

describe('the parser is not a weapon', () => {
  it('fails a deeply nested JSON file alone, naming it, and loads the others', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'deep.json'), `${'['.repeat(5000)}${']'.repeat(5000)}`);
      await writeFile(path.join(dir, 'deep-object.json'), `{"kind":"App","spec":${'{"a":'.repeat(5000)}1${'}'.repeat(5001)}`);
      await writeFile(path.join(dir, 'good.yaml'), minimalYaml('good'));
      const result = await loadManifestDirectory(dir);
      expect([...result.apps.keys()]).toEqual(['good']);
      expect(result.errors.map((e) => path.basename(e.file))).toEqual(['deep-object.json', 'deep.json']);
      for (const error of result.errors) expect(error.message).toMatch(/nested more than \d+ levels deep/);
    });
  });

  it('refuses an alias bomb inside the alias limit quickly, naming the file and document', () => {
    const started = Date.now();
    const { apps, errors } = parseManifestFile('bomb.yaml', `${minimalYaml('ok')}---\n${aliasBomb(12)}`);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(apps.map((a) => a.manifest.metadata.name)).toEqual(['ok']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'bomb.yaml', document: 1, path: '' });
    expect(errors[0]?.message).toMatch(/expands to more than/);
  });

  it('refuses a recursive alias (a document that contains itself), in a file and in a request body', () => {
    const cyclic = 'metadata: &m\n  name: victim\n  labels: *m\napiVersion: v1\nkind: App\n';
    const { apps, errors } = parseManifestFile('cycle.yaml', `${minimalYaml('ok')}---\n${cyclic}`);
    expect(apps.map((a) => a.manifest.metadata.name)).toEqual(['ok']);
    expect(errors).toMatchObject([{ file: 'cycle.yaml', document: 1, path: '' }]);
    expect(errors[0]?.message).toMatch(/recursive alias/);
    expect(() => parseSingleDocument('&a [*a]', 'yaml')).toThrow(/recursive alias/);
    // An anchor named again inside: the alias means the later one, which is closed: no cycle.
    expect(parseSingleDocument('labels: &l {a: &l x, b: *l}', 'yaml')).toEqual({ labels: { a: 'x', b: 'x' } });
  });

  it('counts the documents of a file before building any: a megabyte of "---" is refused at once', () => {
    const started = Date.now();
    const { apps, errors } = parseManifestFile('empty-docs.yaml', '---\n'.repeat(262_000));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(apps).toEqual([]);
    expect(errors).toMatchObject([{ file: 'empty-docs.yaml', path: '', message: 'file holds 262000 documents; a file may hold at most 1000' }]);
  });

  it('never quotes a secret written where a syntax or a type error is: errors say the line and the kind', () => {
    const secret = 'correct-horse-battery-staple';
    const cases: [string, string][] = [
      ['compose.yaml', `${minimalYaml('a')}  env:\n    - DB_PASSWORD=${secret}\n`],
      ['name.yaml', `${minimalYaml('a')}  env:\n    - name: DB_PASSWORD=${secret}\n      value: x\n`],
      ['alias.yaml', `a: 1\nb: *${secret}\n`],
      ['tag.yaml', `a: !${secret} x\n`],
      ['unquoted.json', `{"apiVersion":"v1",\n"spec":{"env":[{"name":"A","value":${secret}}]}}`],
    ];
    for (const [file, text] of cases) {
      const { errors } = parseManifestFile(file, text);
      expect(errors.length, file).toBeGreaterThan(0);
      for (const error of errors) expect(error.message, file).not.toContain('horse');
    }
    expect(parseManifestFile('unquoted.json', cases[4]![1]).errors[0]?.message).toBe('JSON syntax error at line 2: Unexpected token');
  });

  it('refuses at validation what Docker would refuse at create: an uppercase repository, a NUL in a command argument', () => {
    const upper = parseManifestFile('upper.yaml', minimalYaml('a', 'Nginx:1'));
    expect(upper.errors).toMatchObject([{ path: '/spec/image' }]);
    expect(upper.errors[0]?.message).toMatch(/lowercase/);
    const nul = parseManifestFile('nul.json', JSON.stringify({ apiVersion: 'v1', kind: 'App', metadata: { name: 'a' }, spec: { type: 'http', image: 'x:1', ports: [{ containerPort: 80 }], command: ['a\u0000b'] } }));
    expect(nul.errors).toMatchObject([{ path: '/spec/command/0' }]);
    for (const image of ['nginx:1.27', '127.0.0.1:5000/team/app:v1', '"[::1]:5000/app:1"', `registry.example.com/app@sha256:${'a'.repeat(64)}`]) {
      expect(parseManifestFile('ok.yaml', minimalYaml('a', image)).errors, image).toEqual([]);
    }
  });

  it('never expands a value to quote it in an error', () => {
    // A valid-sized, alias-free wide kind: the message quotes a bounded preview only.
    const wide = JSON.stringify({ ...minimal('w'), kind: Array.from({ length: 5000 }, (_, i) => `item-${i}`) });
    const { errors } = parseManifestFile('wide.json', wide);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message.length).toBeLessThan(200);
  });

  it('reports 10,000 claims of one name in linear output, naming the first holder', () => {
    const apps: LoadedApp[] = Array.from({ length: 10_000 }, (_, i) => ({
      manifest: { metadata: { name: 'same' } } as LoadedApp['manifest'],
      file: `/m/file-${String(i).padStart(5, '0')}.yaml`,
      document: 0,
    }));
    const started = Date.now();
    const { apps: unique, errors } = rejectDuplicateNames(apps, []);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(unique.size).toBe(0);
    expect(errors).toHaveLength(10_000);
    const total = errors.reduce((sum, e) => sum + e.message.length, 0);
    expect(total).toBeLessThan(10_000 * 300);
    expect(errors[5]?.message).toContain('/m/file-00000.yaml');
    expect(errors[5]?.message).toMatch(/9,?998 other/);
  });

  it('does not block on a FIFO or a device, and names it', async () => {
    await withTempDir(async (dir) => {
      const fifo = path.join(dir, 'pipe.yaml');
      execFileSync('mkfifo', [fifo]);
      await writeFile(path.join(dir, 'good.yaml'), minimalYaml('good'));
      try {
        const load = Promise.race([
          validatePaths([dir, '/dev/null', fifo]),
          new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 3_000)),
        ]);
        const errors = await load;
        expect(errors).not.toBe('timeout');
        if (errors === 'timeout') return;
        expect(errors.map((e) => e.file).sort()).toEqual(['/dev/null', fifo].sort());
        for (const e of errors) expect(e.message).toMatch(/not a regular file/);
      } finally {
        // Unblock a reader stuck in open() (the behaviour before the fix) so the worker can exit.
        const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
        await writer?.close();
      }
    });
  });

  it('parses a JSON file that starts with a byte order mark', async () => {
    const { apps, errors } = parseManifestFile('bom.json', `\uFEFF${JSON.stringify(minimal('bom'))}`);
    expect(errors).toEqual([]);
    expect(apps.map((a) => a.manifest.metadata.name)).toEqual(['bom']);
  });
});

describe('error lines cannot be forged', () => {
  it('escapes control characters in keys, paths, values and file names', async () => {
    const evil = 'x\u001b[2J\nfake.yaml: /spec: all good\r\u2028';
    const doc = { ...minimal('web'), spec: { ...(minimal('web').spec as object), [evil]: 1, image: evil } };
    const lines = [
      ...parseManifestFile('ok.json', JSON.stringify(doc)).errors,
      { file: `bad\n${evil}.yaml`, path: `/${evil}`, message: evil },
    ].map(formatManifestError);
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line).not.toMatch(UNPRINTABLE);
    expect(lines.join('\n')).toContain('\\u001b');
  });

  it('cuts an unknown key like a value, in the message and the path', () => {
    const key = `k${'y'.repeat(10_000)}`;
    const { errors } = parseManifestFile('t.json', JSON.stringify({ ...minimal('web'), [key]: 1 }));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message.length).toBeLessThan(200);
    expect(errors[0]!.path.length).toBeLessThan(100);
  });

  it('names NaN and Infinity as such', () => {
    const text = minimalYaml('web').replace('  type: http', '  type: http\n  replicas: .inf\n  resources: {cpu: .nan}');
    const messages = parseManifestFile('t.yaml', text).errors.map((e) => `${e.path} ${e.message}`);
    expect(messages.find((m) => m.startsWith('/spec/replicas'))).toMatch(/Infinity/);
    expect(messages.find((m) => m.startsWith('/spec/resources/cpu'))).toMatch(/NaN/);
    expect(messages.join('\n')).not.toMatch(/got null/);
  });

  it('shows the text the file has in the "quote it in YAML" hint', () => {
    for (const written of ['1.0', '0x1F', '1e3', '010']) {
      const { errors } = parseManifestFile('t.yaml', minimalYaml('web').replace('image: nginx:1.27', `image: ${written}`));
      expect(errors.map((e) => e.message)).toEqual([`must be a string; quote it in YAML: "${written}"`]);
    }
  });
});

describe('a literal env value in an error', () => {
  it('is never repeated: status readers may not see env values (--redact-env-values)', () => {
    for (const [written, reason] of [['48151623', /^must be a string, got a number; quote it in YAML$/], ['"pin\\0 48151623"', /NUL byte/], ['[48151623]', /got a list/]] as const) {
      const text = minimalYaml('web').replace('  type: http', `  type: http\n  env:\n    - name: PIN\n      value: ${written}`);
      const { errors } = parseManifestFile('t.yaml', text);
      expect(errors.map((e) => e.path)).toEqual(['/spec/env/0/value']);
      expect(errors[0]?.message).toMatch(reason);
      expect(errors[0]?.message).not.toContain('48151623');
    }
  });
});

describe('the load path never throws', () => {
  it('loads the files around a broken one', async () => {
    await withTempDir(async (dir) => {
      const files = [path.join(dir, 'a.yaml'), path.join(dir, 'b.json'), path.join(dir, 'c.yaml')];
      await writeFile(files[0]!, minimalYaml('a'));
      await writeFile(files[1]!, '\u0000\u00ff{{{');
      await writeFile(files[2]!, minimalYaml('c'));
      const result = await loadManifestFiles(files);
      expect([...result.apps.keys()].sort()).toEqual(['a', 'c']);
      expect(result.errors.map((e) => e.file)).toEqual([files[1]]);
    });
  });
});
