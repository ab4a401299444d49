// nginx's stub_status (served at /_autoserve/nginx-status on our control listener, never to apps):
// global connection counts. `writing` is the requests nginx is working on right now, across all
// apps (the status request itself included): the one true in-flight figure nginx offers.
import type { ControlListener } from '../core/routes.js';
import { getInternal } from './nginx-internal-get.js';

export const NGINX_STATUS_PATH = '/_autoserve/nginx-status';

export interface NginxStatus {
  active: number;
  accepts: number;
  handled: number;
  requests: number;
  reading: number;
  writing: number;
  waiting: number;
}

/**
 * Parses stub_status text:
 *   Active connections: 3
 *    server accepts handled requests
 *    10 10 25
 *   Reading: 0 Writing: 1 Waiting: 2
 */
export function parseStubStatus(text: string): NginxStatus | undefined {
  const active = /Active connections:\s*(\d+)/.exec(text);
  const totals = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(text);
  const rw = /Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)/.exec(text);
  if (!active || !totals || !rw) return undefined;
  const n = (s: string | undefined) => Number(s);
  return {
    active: n(active[1]),
    accepts: n(totals[1]),
    handled: n(totals[2]),
    requests: n(totals[3]),
    reading: n(rw[1]),
    writing: n(rw[2]),
    waiting: n(rw[3]),
  };
}

/** Fetches and parses stub_status from our nginx; undefined when it does not answer. */
export async function fetchNginxStatus(control: ControlListener, timeoutMs = 2_000): Promise<NginxStatus | undefined> {
  const body = await getInternal(control, NGINX_STATUS_PATH, timeoutMs);
  return body === undefined ? undefined : parseStubStatus(body);
}
