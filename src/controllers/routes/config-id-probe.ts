// Asks a running nginx which AutoServe config it serves (the apps conf's /_autoserve/config-id on
// the control listener), over a fresh connection so a kept-alive old worker cannot answer.
import { getInternal } from '../../observe/nginx-internal-get.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ControlListener } from '../../core/routes.js';

export const CONFIG_ID_PATH = '/_autoserve/config-id';
export const DEFAULT_RELOAD_CONFIRM_TIMEOUT_MS = 10_000;

/** Resolves the served config id, or undefined when nothing (of ours) answers. */
export async function fetchServedConfigId(control: ControlListener, timeoutMs = 2_000): Promise<string | undefined> {
  return (await getInternal(control, CONFIG_ID_PATH, timeoutMs))?.trim();
}

/** Polls until `configId` is served; throws after `timeoutMs`. */
export async function waitForConfigId(control: ControlListener, configId: string, timeoutMs = DEFAULT_RELOAD_CONFIRM_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let served: string | undefined;
  for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
    served = await fetchServedConfigId(control);
    if (served === configId) return;
    await sleep(delay);
  }
  throw new Error(`nginx did not serve config ${configId} within ${timeoutMs} ms (serving ${served ?? 'nothing'})`);
}
