// Asks a running nginx which AutoServe config it serves (the apps conf's /_autoserve/config-id),
// over a fresh loopback connection so a kept-alive old worker cannot answer.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ListenAddress } from '../../render/nginx-view-model.js';

export const CONFIG_ID_PATH = '/_autoserve/config-id';
export const DEFAULT_RELOAD_CONFIRM_TIMEOUT_MS = 10_000;

/** Resolves the served config id, or undefined when nothing (of ours) answers. */
export function fetchServedConfigId(listen: ListenAddress, timeoutMs = 2_000): Promise<string | undefined> {
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host;
  return new Promise((resolve) => {
    const req = http.request(
      { host, port: listen.port, path: CONFIG_ID_PATH, agent: false, timeout: timeoutMs, headers: { host: 'autoserve-internal' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Polls until `configId` is served; throws after `timeoutMs`. */
export async function waitForConfigId(listen: ListenAddress, configId: string, timeoutMs = DEFAULT_RELOAD_CONFIRM_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let served: string | undefined;
  for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
    served = await fetchServedConfigId(listen);
    if (served === configId) return;
    await sleep(delay);
  }
  throw new Error(`nginx did not serve config ${configId} within ${timeoutMs} ms (serving ${served ?? 'nothing'})`);
}
