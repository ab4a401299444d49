// Reads a template shipped next to this module: src/render/templates under vitest/tsx,
// dist/render/templates after the build copies them (scripts/copy-assets.mjs).
import { readFileSync } from 'node:fs';

export function loadTemplate(name: string): string {
  return readFileSync(new URL(`./templates/${name}`, import.meta.url), 'utf8');
}
