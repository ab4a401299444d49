// The dashboard's built files (dist/ui: index.html and assets/ with content-hashed names, made by
// scripts/build-ui.mjs), read once into memory with a gzip copy and an ETag each, and sent with
// caching headers: hashed assets are immutable for a year, the page is revalidated every time.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface UiFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
/** Smaller files are sent as they are: gzip would not pay for its header. */
const GZIP_MIN_BYTES = 1024;

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

/** dist/ui of this package, found from this module's place (src/api or dist/api). */
export function defaultUiDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'ui');
}

export class UiAssets {
  private constructor(
    readonly page: UiFile,
    private readonly assets: Map<string, UiFile>,
  ) {}

  /** Reads a built UI; undefined when `dir` holds no index.html (the UI was not built). */
  static async load(dir: string): Promise<UiAssets | undefined> {
    if (!existsSync(join(dir, 'index.html'))) return undefined;
    const assets = new Map<string, UiFile>();
    const assetDir = join(dir, 'assets');
    const names = existsSync(assetDir) ? await readdir(assetDir) : [];
    for (const name of names) assets.set(name, await readUiFile(join(assetDir, name)));
    return new UiAssets(await readUiFile(join(dir, 'index.html')), assets);
  }

  asset(name: string): UiFile | undefined {
    return this.assets.get(name);
  }
}

async function readUiFile(path: string): Promise<UiFile> {
  const body = await readFile(path);
  return {
    body,
    gzip: body.length >= GZIP_MIN_BYTES ? gzipSync(body, { level: 9 }) : undefined,
    type: TYPES[extname(path)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

/** Sends a UI file: 304 when the client holds this version, gzip when the client takes it. */
export function sendUiFile(req: IncomingMessage, res: ServerResponse, file: UiFile, cacheControl: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('ETag', file.etag);
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304).end();
    return;
  }
  const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? file.gzip! : file.body;
  res.writeHead(200, {
    'Content-Type': file.type,
    'Content-Length': body.length,
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(body);
}
