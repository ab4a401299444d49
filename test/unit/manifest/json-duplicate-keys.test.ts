// A JSON manifest that names a key twice in one object is refused (JSON.parse would keep the last
// silently: a reviewer reads the first image, the controller would run the second).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertNoDuplicateKeys, DuplicateKeyError } from '../../../src/manifest/json-duplicate-keys.js';
import { parseManifestFile } from '../../../src/manifest/parse-file.js';

describe('assertNoDuplicateKeys', () => {
  it.each([
    ['{"a":1,"a":2}', 'a', 1],
    ['{"x":{"b":1},\n"y":[{"c":1,\n"c":2}]}', 'c', 3],
    ['{"\\u0061":1,"a":2}', 'a', 1],
  ])('refuses %j, naming the key and the line', (text, key, line) => {
    expect(() => assertNoDuplicateKeys(text)).toThrow(new DuplicateKeyError(key, line));
  });

  it.each(['{"a":1,"b":{"a":2}}', '[{"a":1},{"a":2}]', '{"a":"a","b":["a","a"]}', '{"k":"\\"a\\":","a":1}', '"a"', '[]'])('accepts %j (equal keys in different objects, values that look like keys)', (text) => {
    expect(() => assertNoDuplicateKeys(text)).not.toThrow();
  });

  it('accepts whatever JSON.stringify writes, and refuses it once an object repeats a key', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, key) => {
        const text = JSON.stringify(value);
        assertNoDuplicateKeys(text);
        const k = JSON.stringify(key);
        expect(() => assertNoDuplicateKeys(`{${k}:${text},${k}:1}`)).toThrow(DuplicateKeyError);
      }),
    );
  });

  it('a manifest with a second "image" is refused with the line, not loaded with the second one', () => {
    const text = '{"apiVersion":"v1","kind":"App","metadata":{"name":"web"},\n"spec":{"type":"http","image":"nginx:1.27","ports":[{"containerPort":80}],\n"image":"miner:latest"}}';
    const { apps, errors } = parseManifestFile('web.json', text);
    expect(apps).toEqual([]);
    expect(errors).toMatchObject([{ file: 'web.json', path: '', message: 'JSON syntax error at line 3: duplicate key "image"' }]);
  });
});
