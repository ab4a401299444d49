// Query-string values, parsed strictly: a bad value is a 400 naming the parameter, never a guess.
import { badQuery } from './http-error.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A non-negative integer within [min, max], or `fallback` when absent. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw badQuery(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw badQuery(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/**
 * A point in time as epoch milliseconds: an ISO-8601 time ("2024-05-01T10:00:00Z"), epoch seconds
 * (fractions allowed, as Docker prints them), or a duration back from `now` ("5m", "30s").
 */
export function timeParam(query: URLSearchParams, name: string, now = Date.now()): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const duration = DURATION.exec(raw);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]!]!;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    const ms = Date.parse(raw);
    if (!Number.isNaN(ms)) return ms;
  }
  throw badQuery(name, `must be an ISO-8601 time, epoch seconds or a duration like 5m, got ${JSON.stringify(raw)}`);
}

/** A plain string value, or undefined when absent or empty. */
export function stringParam(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  return raw === null || raw === '' ? undefined : raw;
}
