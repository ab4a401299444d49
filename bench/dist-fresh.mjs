// Benches that run the built CLI (dist/) measure whatever was last built: a source change without
// `npm run build` would be measured as if it were not there. Refuse a dist/ older than src/.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtimeMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(file) : statSync(file).mtimeMs);
  }
  return newest;
}

/** Throws when a file under src/ (or ui/src/) is newer than dist/cli/main.js, or dist/ is missing. */
export function assertDistFresh(root = process.cwd()) {
  let built;
  try {
    built = statSync(join(root, 'dist', 'cli', 'main.js')).mtimeMs;
  } catch {
    throw new Error('dist/ is missing: run `npm run build` first (this bench runs the built CLI)');
  }
  const sources = ['src', join('ui', 'src')].map((d) => join(root, d)).filter((d) => { try { return statSync(d).isDirectory(); } catch { return false; } });
  const newest = Math.max(...sources.map(newestMtimeMs));
  if (newest > built) throw new Error('dist/ is older than src/: run `npm run build` first (this bench runs the built CLI)');
}
