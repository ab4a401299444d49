// Copies the non-TypeScript assets tsc does not emit into dist/, so `node dist/...` finds them:
//   src/**/<non-.ts files> -> dist/**   (e.g. src/render/templates/*.hbs, JSON schemas beside code)
//   schema/                -> dist/schema/
// The destination dirs dist/render/templates/ and dist/schema/ always exist afterwards, even when
// the sources are missing or empty, so the build never fails on them.
import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

async function exists(p) {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Recursively copies every file under `from` except TypeScript sources; returns the count. */
async function copyNonTs(from, to) {
  let copied = 0;
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      copied += await copyNonTs(source, target);
    } else if (entry.isFile() && !/\.(m|c)?ts$/.test(entry.name)) {
      await mkdir(to, { recursive: true });
      await cp(source, target);
      copied += 1;
    }
  }
  return copied;
}

let copied = 0;
if (await exists(src)) copied += await copyNonTs(src, dist);
await mkdir(path.join(dist, 'render', 'templates'), { recursive: true });
const schemaDir = path.join(root, 'schema');
await mkdir(path.join(dist, 'schema'), { recursive: true });
if (await exists(schemaDir)) {
  await cp(schemaDir, path.join(dist, 'schema'), { recursive: true });
  copied += (await readdir(schemaDir, { recursive: true })).length;
}
console.log(`copy-assets: ${copied} asset(s) copied to dist/`);
