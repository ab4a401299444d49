// Bundles the dashboard (ui/src) with esbuild into dist/ui: assets/app-<hash>.js and .css
// (content-hashed, so the server can cache them for a year) and index.html naming them.
// No CDN and no network: uPlot comes from node_modules.
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'ui');
const assets = path.join(out, 'assets');

await rm(out, { recursive: true, force: true });
await mkdir(assets, { recursive: true });
const result = await build({
  entryPoints: { app: path.join(root, 'ui', 'src', 'main.ts') },
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  // Current Chromium and Firefox (and a few years back).
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`build-ui: expected a .js and a .css output, got ${outputs.join(', ')}`);
const page = (await readFile(path.join(root, 'ui', 'index.html'), 'utf8'))
  .replace('%APP_CSS%', `/ui/assets/${css}`)
  .replace('%APP_JS%', `/ui/assets/${js}`);
await writeFile(path.join(out, 'index.html'), page);
console.log(`build-ui: dist/ui/assets/${js}, ${css}`);
