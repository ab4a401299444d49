// Reads a small request body as JSON (or YAML when the client says so). Bounded: a write call
// carries a manifest or a number, never megabytes.
import type { IncomingMessage } from 'node:http';
import { parseSingleDocument } from '../manifest/parse-file.js';
import { HttpError } from './http-error.js';

export const MAX_BODY_BYTES = 256 * 1024;

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'BodyTooLarge', `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'BadBody', 'request body is empty; send a JSON object');
  const format = /yaml/i.test(req.headers['content-type'] ?? '') ? 'yaml' : 'json';
  try {
    // The manifest limits apply: a body is serialised and validated like a file (no alias bomb).
    return parseSingleDocument(text, format);
  } catch (err) {
    throw new HttpError(400, 'BadBody', `request body is not valid ${format === 'yaml' ? 'YAML' : 'JSON'}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
