// Scale to zero, as a manifest asks for it: one definition of "this app sleeps when idle and a
// request wakes it", read by the routes (hold requests), the scaler (sleep and wake) and the status.
import { DEFAULT_IDLE_SECONDS, DEFAULT_WAKE_TIMEOUT_SECONDS } from './scaling-defaults.js';
import type { AppSpec } from './types.js';

export interface ScaleToZero {
  /** Seconds without a request arriving (and none in flight) before the app stops. */
  idleSeconds: number;
  /** The longest a request waits for a ready replica before its 503. */
  wakeTimeoutSeconds: number;
  /** Browsers (Accept: text/html) get a self-refreshing page instead of being held. */
  startingPage: boolean;
}

/**
 * The app's scale-to-zero settings, or undefined when it does not sleep: `scaling.minReplicas: 0`
 * in auto mode, or in manual mode with replicas to wake to (an app that asks for 0 replicas has
 * nothing to wake). An app that is down does not sleep: it is stopped, and requests are not held.
 */
export function scaleToZeroOf(spec: AppSpec): ScaleToZero | undefined {
  const scaling = spec.scaling;
  if (spec.state !== 'up' || !scaling || scaling.minReplicas !== 0) return undefined;
  if (scaling.policy.mode === 'manual' && spec.replicas === 0) return undefined;
  return {
    idleSeconds: scaling.idleSeconds ?? DEFAULT_IDLE_SECONDS,
    wakeTimeoutSeconds: scaling.wakeTimeoutSeconds ?? DEFAULT_WAKE_TIMEOUT_SECONDS,
    startingPage: scaling.startingPage ?? false,
  };
}

/** How a route holds requests for an app with no replica serving: how long, and whether browsers get a page. */
export type RouteHoldSettings = Pick<ScaleToZero, 'wakeTimeoutSeconds' | 'startingPage'>;

/**
 * Whether the app's route holds requests that find no replica: always for an app that scales to
 * zero, and for an app that left scale to zero while asleep or waking (`atZero`: its status still
 * says so) until one of its replicas serves, so the change does not answer 503 during the start.
 */
export function routeHoldOf(spec: AppSpec, atZero: boolean): RouteHoldSettings | undefined {
  const zero = scaleToZeroOf(spec);
  if (zero) return { wakeTimeoutSeconds: zero.wakeTimeoutSeconds, startingPage: zero.startingPage };
  if (!atZero || stoppedReason(spec) !== undefined) return undefined;
  return { wakeTimeoutSeconds: spec.scaling?.wakeTimeoutSeconds ?? DEFAULT_WAKE_TIMEOUT_SECONDS, startingPage: spec.scaling?.startingPage ?? false };
}

/**
 * Why the app runs no replica by its manifest (down, or manual with `replicas: 0`), or undefined:
 * requests held for it are answered at once with this, and nothing wakes it.
 */
export function stoppedReason(spec: AppSpec): string | undefined {
  if (spec.state === 'down') return 'the app is stopped (spec.state: down)';
  const manual = !spec.scaling || spec.scaling.policy.mode === 'manual';
  if (manual && spec.replicas === 0) return 'the app runs no replica (spec.replicas: 0)';
  return undefined;
}
