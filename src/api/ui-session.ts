// Browser sessions for the dashboard when an API token is set. The login form posts the token once;
// the answer is an HttpOnly, SameSite=Strict cookie, so the token never sits in a URL (and so in no
// log or history) nor in page script, and EventSource (which cannot send headers) works as is.
//
// The cookie is `<expiry ms>.<HMAC-SHA256(key, expiry)>` with a key made at start: no session table
// to grow, every session ends when the controller restarts or after SESSION_MAX_AGE_S. It grants
// reads only (GET/HEAD): write calls still need the bearer token, so a cookie can never edit a
// manifest, whatever a page in the browser does.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'autoserve_session';
export const SESSION_MAX_AGE_S = 12 * 60 * 60;

export class UiSessions {
  private readonly key = randomBytes(32);

  constructor(private readonly now: () => number = Date.now) {}

  /** A Set-Cookie value for a new session. */
  issueCookie(): string {
    const expires = this.now() + SESSION_MAX_AGE_S * 1000;
    const value = `${expires}.${this.sign(String(expires))}`;
    return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Strict`;
  }

  /** A Set-Cookie value that removes the session cookie from the browser. */
  static clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`;
  }

  /** True when the request carries an unexpired session cookie made by this process. */
  isValid(req: IncomingMessage): boolean {
    const value = readCookie(req.headers.cookie, SESSION_COOKIE);
    const match = value === undefined ? null : /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match) return false;
    const expected = Buffer.from(this.sign(match[1]!));
    const presented = Buffer.from(match[2]!);
    return timingSafeEqual(expected, presented) && Number(match[1]) > this.now();
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
