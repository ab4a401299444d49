// Bearer-token check. Both sides are hashed first so the comparison is constant-time and of equal
// length whatever the caller sends (timingSafeEqual throws on different lengths).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';
import type { UiSessions } from './ui-session.js';

export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Throws 401 unless the request carries `Authorization: Bearer <token>`. */
export function requireBearer(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match || !tokenMatches(match[1]!.trim(), token)) {
    throw new HttpError(401, 'Unauthorized', 'a valid bearer token is required (Authorization: Bearer <token>)', {
      'WWW-Authenticate': 'Bearer realm="autoserve"',
    });
  }
}

/**
 * Lets a request through with the bearer token, or, for reads (GET, HEAD) only, with a valid
 * dashboard session cookie (see ui-session.ts); throws 401 otherwise.
 */
export function requireAuth(req: IncomingMessage, token: string, sessions: UiSessions): void {
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (read && !req.headers.authorization && sessions.isValid(req)) return;
  requireBearer(req, token);
}
