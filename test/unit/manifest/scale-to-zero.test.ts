// Which apps sleep, and which routes hold requests that find no replica (one definition each).
import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import { routeHoldOf, scaleToZeroOf } from '../../../src/manifest/scale-to-zero.js';
import { DEFAULT_WAKE_TIMEOUT_SECONDS } from '../../../src/manifest/scaling-defaults.js';
import type { AppSpec } from '../../../src/manifest/types.js';

function spec(over: Record<string, unknown>): AppSpec {
  return applyDefaults({ apiVersion: 'v1', kind: 'App', metadata: { name: 'web' }, spec: { type: 'http', image: 'x:1', ports: [{ containerPort: 80 }], ...over } }).spec;
}
const auto = (scaling: Record<string, unknown>) => spec({ scaling: { maxReplicas: 3, policy: { connections: { targetPerReplica: 5 } }, ...scaling } });

describe('scaleToZeroOf / routeHoldOf', () => {
  const rows: { name: string; spec: AppSpec; atZero: boolean; sleeps: boolean; holds: { wakeTimeoutSeconds: number; startingPage: boolean } | undefined }[] = [
    { name: 'autoscaled at minReplicas 0', spec: auto({ minReplicas: 0, wakeTimeoutSeconds: 9, startingPage: true }), atZero: false, sleeps: true, holds: { wakeTimeoutSeconds: 9, startingPage: true } },
    { name: 'minReplicas 1, awake', spec: auto({ minReplicas: 1 }), atZero: false, sleeps: false, holds: undefined },
    { name: 'minReplicas 1, still asleep or waking (scale to zero just turned off)', spec: auto({ minReplicas: 1 }), atZero: true, sleeps: false, holds: { wakeTimeoutSeconds: DEFAULT_WAKE_TIMEOUT_SECONDS, startingPage: false } },
    { name: 'turned off, keeps its own wake settings', spec: auto({ minReplicas: 1, wakeTimeoutSeconds: 4 }), atZero: true, sleeps: false, holds: { wakeTimeoutSeconds: 4, startingPage: false } },
    { name: 'down while at zero: stopped, nothing held', spec: spec({ state: 'down', scaling: { minReplicas: 0, maxReplicas: 3, policy: { connections: { targetPerReplica: 5 } } } }), atZero: true, sleeps: false, holds: undefined },
    { name: 'manual with 0 replicas: nothing to wake to', spec: spec({ replicas: 0, scaling: { minReplicas: 0, maxReplicas: 3, policy: { mode: 'manual' } } }), atZero: false, sleeps: false, holds: undefined },
    { name: 'no scaling block', spec: spec({}), atZero: false, sleeps: false, holds: undefined },
    { name: 'turned off while asleep into replicas 0: nothing to wait for', spec: spec({ replicas: 0 }), atZero: true, sleeps: false, holds: undefined },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(scaleToZeroOf(row.spec) !== undefined).toBe(row.sleeps);
      expect(routeHoldOf(row.spec, row.atZero)).toEqual(row.holds);
    });
  }
});
