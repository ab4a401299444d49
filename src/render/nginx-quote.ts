// Safe printing of values into nginx config syntax. Every value that reaches a rendered config
// passes one of these functions. They refuse rather than escape anything nginx could read as
// syntax or as a variable: `$` has no escape in every nginx context, and `;`, `{`, `}` or a newline
// are harmless inside quotes only as long as the quoting is right. The manifest schema already
// restricts these values; this is the second line of defence.
import { isPeerIpv4, PEER_RANGES } from '../core/peer-address.js';

/** Thrown when a value is not safe to print into an nginx config. Stable `code` for callers. */
export class UnsafeNginxValueError extends Error {
  readonly code = 'UNSAFE_NGINX_VALUE';
  constructor(
    readonly kind: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`unsafe ${kind} for nginx config (${reason}): ${JSON.stringify(String(value)).slice(0, 80)}`);
    this.name = 'UnsafeNginxValueError';
  }
}

export const MAX_NGINX_STRING_LENGTH = 4096;
export const MAX_HOSTNAME_LENGTH = 253;
export const MAX_PATH_PREFIX_LENGTH = 1024;

// C0 controls, DEL, C1 controls and the Unicode line/paragraph separators.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const FORBIDDEN_IN_STRING = /[$;{}]/;

/**
 * Returns `value` as a double-quoted nginx string. `\` and `"` are escaped (nginx unescapes both
 * inside double quotes). Throws UnsafeNginxValueError for `$`, `;`, `{`, `}`, control characters
 * (newlines included), the empty string, or more than MAX_NGINX_STRING_LENGTH characters.
 */
export function nginxString(value: unknown): string {
  if (typeof value !== 'string') throw new UnsafeNginxValueError('string', value, 'not a string');
  if (value.length === 0) throw new UnsafeNginxValueError('string', value, 'empty');
  if (value.length > MAX_NGINX_STRING_LENGTH) throw new UnsafeNginxValueError('string', value, 'too long');
  if (CONTROL_CHARS.test(value)) throw new UnsafeNginxValueError('string', value, 'control character');
  if (FORBIDDEN_IN_STRING.test(value)) throw new UnsafeNginxValueError('string', value, 'contains $ ; { or }');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// RFC 1123 label, lowercase: the shape of an app name (also a Docker name part).
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Asserts an app name usable bare in nginx (upstream names, log file names): a lowercase DNS label. */
export function assertNginxToken(value: unknown): string {
  if (typeof value !== 'string' || !DNS_LABEL.test(value)) {
    throw new UnsafeNginxValueError('token', value, 'not a lowercase DNS label');
  }
  return value;
}

const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Asserts a plain DNS hostname (ASCII letters, digits, hyphens; no wildcard, no port, no trailing dot). */
export function assertHostname(value: unknown): string {
  if (typeof value !== 'string') throw new UnsafeNginxValueError('hostname', value, 'not a string');
  if (value.length === 0 || value.length > MAX_HOSTNAME_LENGTH) {
    throw new UnsafeNginxValueError('hostname', value, `length must be 1..${MAX_HOSTNAME_LENGTH}`);
  }
  if (!value.split('.').every((label) => HOST_LABEL.test(label))) {
    throw new UnsafeNginxValueError('hostname', value, 'not a DNS hostname');
  }
  return value;
}

// Unreserved URI characters and `/`. `%` is refused: nginx matches locations against the
// decoded URI, so an encoded prefix would never match.
const PATH_PREFIX = /^\/[A-Za-z0-9._~/-]*$/;

/** Asserts a location prefix: starts with `/`, unreserved characters only, no empty segment. */
export function assertPathPrefix(value: unknown): string {
  if (typeof value !== 'string' || !PATH_PREFIX.test(value)) {
    throw new UnsafeNginxValueError('pathPrefix', value, 'must be / followed by [A-Za-z0-9._~/-]');
  }
  if (value.length > MAX_PATH_PREFIX_LENGTH) throw new UnsafeNginxValueError('pathPrefix', value, 'too long');
  if (value.includes('//')) throw new UnsafeNginxValueError('pathPrefix', value, 'empty segment');
  return value;
}

/** Asserts a TCP port: an integer in 1..65535. */
export function assertPort(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UnsafeNginxValueError('port', value, 'not an integer in 1..65535');
  }
  return value;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Asserts a dotted-quad IPv4 address (what nginx may listen on). */
export function assertIpv4(value: unknown): string {
  if (typeof value !== 'string' || !IPV4.test(value)) {
    throw new UnsafeNginxValueError('ipv4', value, 'not a dotted-quad IPv4 address');
  }
  return value;
}

/** Asserts a loopback IPv4 address (127.0.0.0/8): where nginx's control listener may be. */
export function assertLoopbackIpv4(value: unknown): string {
  const ip = assertIpv4(value);
  if (!ip.startsWith('127.')) throw new UnsafeNginxValueError('loopback address', value, 'not in 127.0.0.0/8');
  return ip;
}

/**
 * Asserts an upstream server address: an IPv4 address in a peer range (core/peer-address:
 * loopback for a published port, a private range for a replica on a Docker network of ours).
 */
export function assertPeerIpv4(value: unknown): string {
  const ip = assertIpv4(value);
  if (!isPeerIpv4(ip)) throw new UnsafeNginxValueError('upstream host', value, `not in ${PEER_RANGES.join(', ')}`);
  return ip;
}

/** Asserts a non-negative safe integer (counts, sizes). */
export function assertNonNegativeInteger(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new UnsafeNginxValueError('integer', value, 'not a non-negative integer');
  }
  return value;
}
