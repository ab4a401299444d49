// The drain order is the contract: out of the upstream first, then drainSeconds, then SIGTERM (stop
// with a timeout), then removal, then the app is looked at again. Docker is faked to record the order.
import type Docker from 'dockerode';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Drainer } from '../../../src/controllers/containers/drainer.js';
import { eventually } from '../../support/eventually.js';

function recordingDocker(steps: string[], fail?: { stop?: number }): Docker {
  return {
    getContainer: (id: string) => ({
      stop: async (opts: { t: number }) => {
        steps.push(`stop ${id} t=${opts.t}`);
        if (fail?.stop) throw Object.assign(new Error('not modified'), { statusCode: fail.stop });
      },
      remove: async () => void steps.push(`remove ${id}`),
    }),
  } as unknown as Docker;
}

/** A drainer whose upstream always lets go, recording every step. */
function quietDrainer(steps: string[]): Drainer {
  return new Drainer({
    docker: recordingDocker(steps),
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
      docker: recordingDocker(steps),
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

  it('treats an already stopped container (304) as stopped and still removes it', async () => {
    const steps: string[] = [];
    const drainer = new Drainer({
      docker: recordingDocker(steps, { stop: 304 }),
      logger: pino({ level: 'silent' }),
      leaveUpstream: async () => undefined,
      onGone: (app) => steps.push(`gone ${app}`),
    });
    drainer.start({ app: 'web', id: 'c2', name: 'web-2', drainSeconds: 0, stopTimeoutSeconds: 1, reason: 'r' });
    await eventually(() => expect(steps).toEqual(['stop c2 t=1', 'remove c2', 'gone web']), { timeoutMs: 2_000 });
  });

  it('if leaving the upstream fails, the replica is not stopped (the next pass retries)', async () => {
    const steps: string[] = [];
    const drainer = new Drainer({
      docker: recordingDocker(steps),
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
