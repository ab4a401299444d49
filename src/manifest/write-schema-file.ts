// Writes the App JSON Schema for editors (schema/app.schema.json). The committed file is checked
// against the schema in code by test/unit/manifest/schema-file.test.ts, so it cannot drift.

import { writeFile } from 'node:fs/promises';
import { appManifestSchema } from './schema.js';

export function schemaFileText(): string {
  return `${JSON.stringify(appManifestSchema, null, 2)}\n`;
}

export async function writeSchemaFile(outPath: string): Promise<void> {
  await writeFile(outPath, schemaFileText(), 'utf8');
}
