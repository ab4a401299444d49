// The drain order is the contract: out of the upstream first, then drainSeconds, then SIGTERM (stop
// with a timeout), then removal, then the app is looked at again. The runtime is faked to record the
// order (what stop and remove do with a container that is already stopped or gone is the runtime
// contract's, test/e2e/runtime/).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Drainer } from '../../../src/controllers/containers/drainer.js';
import { eventually } from '../../support/eventually.js';

function recordingRuntime(steps: string[], fail?: { stop?: Error }) {
  return {
    stop: async (id: string, timeoutSeconds: number) => {
      steps.push(`stop ${id} t=${timeoutSeconds}`);
      if (fail?.stop) throw fail.stop;
    },
    remove: async (id: string) => void steps.push(`remove ${id}`),
  };
}

/** A drainer whose upstream always lets go, recording every step. */
function quietDrainer(steps: string[]): Drainer {
  return new Drainer({
    runtime: recordingRuntime(steps),
    logger: pino({ level: 'silent' }),
    leaveUpstream: async () => undefined,
    onGone: (app) => steps.push(`gone ${app}`),
  });
}

describe('Drainer', () => {
  it('leaves the upstream, waits drainSeconds, stops with the timeout, removes, then reports the replica gone', async () => {
    const steps: string[] = [];
    const started = Date.now();
    const drainer = new Drainer({
      runtime: recordingRuntime(steps),
      logger: pino({ level: 'silent' }),
      leaveUpstream: async (app) => void steps.push(`leave ${app}`),
      onGone: (app, id) => steps.push(`gone ${app} ${id} after ${Date.now() - started >= 1_000 ? '>=1s' : '<1s'}`),
    });
    drainer.start({ app: 'web', id: 'c1', name: 'web-1', drainSeconds: 1, stopTimeoutSeconds: 7, reason: 'scale down' });
    expect(drainer.isDraining('c1')).toBe(true);
    drainer.start({ app: 'web', id: 'c1', name: 'web-1', drainSeconds: 1, stopTimeoutSeconds: 7, reason: 'again' }); // ignored
    await eventually(() => expect(drainer.isDraining('c1')).toBe(false), { timeoutMs: 5_000 });
    expect(steps).toEqual(['leave web', 'stop c1 t=7', 'remove c1', 'gone web c1 after >=1s']);
  });

  it('a stop that fails removes nothing and still reports the replica, so the next pass looks again', async () => {
    const steps: string[] = [];
    const drainer = new Drainer({
      runtime: recordingRuntime(steps, { stop: new Error('engine error') }),
      logger: pino({ level: 'silent' }),
      leaveUpstream: async () => undefined,
      onGone: (app, _id, reason) => steps.push(`gone ${app}: ${reason}`),
    });
    drainer.start({ app: 'web', id: 'c2', name: 'web-2', drainSeconds: 0, stopTimeoutSeconds: 1, reason: 'r' });
    await eventually(() => expect(steps).toEqual(['stop c2 t=1', 'gone web: drain failed: Error: engine error']), { timeoutMs: 2_000 });
  });

  it('if leaving the upstream fails, the replica is not stopped (the next pass retries)', async () => {
    const steps: string[] = [];
    const drainer = new Drainer({
      runtime: recordingRuntime(steps),
      logger: pino({ level: 'silent' }),
      leaveUpstream: async () => {
        throw new Error('nginx down');
      },
      onGone: (app) => steps.push(`gone ${app}`),
    });
    drainer.start({ app: 'web', id: 'c3', name: 'web-3', drainSeconds: 0, stopTimeoutSeconds: 1, reason: 'r' });
    await eventually(() => expect(steps).toEqual(['gone web']), { timeoutMs: 2_000 });
  });

  it('close() lets drains in flight finish, so nothing is left out of nginx but running', async () => {
    const steps: string[] = [];
    const drainer = quietDrainer(steps);
    drainer.start({ app: 'web', id: 'c4', name: 'web-4', drainSeconds: 1, stopTimeoutSeconds: 1, reason: 'r' });
    await drainer.close(5_000);
    expect(steps).toEqual(['stop c4 t=1', 'remove c4', 'gone web']);
  });

  it('close() stops waiting after its timeout', async () => {
    const steps: string[] = [];
    const drainer = quietDrainer(steps);
    drainer.start({ app: 'web', id: 'c5', name: 'web-5', drainSeconds: 30, stopTimeoutSeconds: 1, reason: 'r' });
    const started = Date.now();
    await drainer.close(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(steps).toEqual([]); // left for the next start to drain again
  });
});
