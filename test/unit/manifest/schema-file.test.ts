import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { schemaFileText, writeSchemaFile } from '../../../src/manifest/write-schema-file.js';
import { appManifestSchema } from '../../../src/manifest/schema.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../../schema/app.schema.json', import.meta.url));

describe('schema/app.schema.json', () => {
  it('is the schema in code, written out (regenerate: AUTOSERVE_WRITE_SCHEMA=1 npx vitest run test/unit/manifest/schema-file.test.ts)', async () => {
    if (process.env.AUTOSERVE_WRITE_SCHEMA === '1') await writeSchemaFile(SCHEMA_FILE);
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(schemaFileText());
  });

  it('is a valid draft-07 schema that closes every object', () => {
    expect(new Ajv({ strict: false }).validateSchema(appManifestSchema)).toBe(true);
    const open: string[] = [];
    const visit = (node: unknown, at: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${at}/${i}`));
      if (node === null || typeof node !== 'object') return;
      const schema = node as Record<string, unknown>;
      if (schema.type === 'object' && schema.additionalProperties === undefined) open.push(at);
      for (const [key, value] of Object.entries(schema)) visit(value, `${at}/${key}`);
    };
    visit(appManifestSchema, '#');
    expect(open).toEqual([]);
  });

  it('describes every property for editors', () => {
    const missing: string[] = [];
    const visit = (node: unknown, at: string) => {
      if (node === null || typeof node !== 'object') return;
      const schema = node as Record<string, unknown>;
      const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
      for (const [name, property] of Object.entries(properties ?? {})) {
        if (typeof property.description !== 'string') missing.push(`${at}/${name}`);
        visit(property, `${at}/${name}`);
      }
      if (schema.items) visit(schema.items, `${at}/items`);
    };
    visit(appManifestSchema, '');
    expect(missing).toEqual([]);
  });
});
