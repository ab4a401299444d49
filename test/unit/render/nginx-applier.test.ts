import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { NginxApplier, type NginxConfigTarget } from '../../../src/controllers/routes/nginx-applier.js';
import type { AppRoute, RouteTable } from '../../../src/core/routes.js';
import { renderAppsConf } from '../../../src/render/render-nginx-config.js';

const logger = pino({ level: 'silent' });
const renderOpts = { listen: { host: '127.0.0.1', port: 8080 }, logsDir: '/tmp/as-logs', control: { socketPath: '/tmp/as-control/control.sock' } };
const route = (app: string, ports: number[], host = `${app}.localhost`): AppRoute => ({
  app,
  host,
  pathPrefix: '/',
  servers: ports.map((port) => ({ host: '127.0.0.1', port })),
});

/** In-memory nginx: rejects any config containing a server on port 666; serves what was reloaded. */
function fakeTarget() {
  const state = { served: undefined as string | undefined, installed: '', reloads: 0, tests: 0 };
  const target: NginxConfigTarget = {
    render: (table: RouteTable) => renderAppsConf(table, renderOpts),
    servedConfigId: async () => state.served,
    test: async (text) => {
      state.tests++;
      return text.includes(':666 ') ? { ok: false, message: '[emerg] port 666 is cursed' } : { ok: true, message: '' };
    },
    install: async (text) => void (state.installed = text),
    installed: async () => state.installed,
    reload: async (configId) => {
      state.reloads++;
      state.served = configId;
    },
  };
  return { target, state };
}

describe('NginxApplier', () => {
  it('reloads on change and not when the table is unchanged', async () => {
    const { target, state } = fakeTarget();
    const applier = new NginxApplier({ target, logger });
    const first = await applier.apply({ routes: [route('a', [1000])] });
    expect(first).toMatchObject({ changed: true, reloaded: true, degraded: [] });
    const again = await applier.apply({ routes: [route('a', [1000])] });
    expect(again).toMatchObject({ changed: false, reloaded: false, degraded: [] });
    expect(state.reloads).toBe(1);
  });

  it('restores a config edited by hand on disk even when the served id still matches', async () => {
    const { target, state } = fakeTarget();
    const applier = new NginxApplier({ target, logger });
    await applier.apply({ routes: [route('a', [1000])] });
    const ours = state.installed;
    state.installed = `${ours}\n# hand edit\n`;
    const result = await applier.apply({ routes: [route('a', [1000])] });
    expect(result).toMatchObject({ changed: true, reloaded: true, drift: true });
    expect(state.installed).toBe(ours);
    expect(state.reloads).toBe(2);
  });

  it('holds back only the app whose change breaks the config; the others go out in one reload', async () => {
    const { target, state } = fakeTarget();
    const applier = new NginxApplier({ target, logger });
    await applier.apply({ routes: [route('a', [1000]), route('b', [2000])] });

    const result = await applier.apply({ routes: [route('a', [1000, 666]), route('b', [2000, 2001]), route('c', [3000])] });
    expect(result.degraded).toEqual([{ app: 'a', message: '[emerg] port 666 is cursed' }]);
    expect(result.reloaded).toBe(true);
    expect(state.reloads).toBe(2);
    expect(state.installed).toContain('server 127.0.0.1:1000 max_fails=0;'); // a: last good
    expect(state.installed).not.toContain(':666 ');
    expect(state.installed).toContain('server 127.0.0.1:2001 max_fails=0;'); // b: new
    expect(state.installed).toContain('upstream as_c');
  });

  it('an app that never had a good route is left out; an app with an unsafe value is degraded, not fatal', async () => {
    const { target, state } = fakeTarget();
    const applier = new NginxApplier({ target, logger });
    const result = await applier.apply({ routes: [route('new', [666]), route('evil', [1], 'x;y'), route('ok', [4000])] });
    expect(result.degraded.map((d) => d.app)).toEqual(['evil', 'new']);
    expect(result.degraded[0]?.message).toMatch(/hostname/);
    expect(state.installed).toContain('upstream as_ok');
    expect(state.installed).not.toContain('as_new');
  });

  it('repeating a held-back change does not reload again', async () => {
    const { target, state } = fakeTarget();
    const applier = new NginxApplier({ target, logger });
    await applier.apply({ routes: [route('a', [1000])] });
    await applier.apply({ routes: [route('a', [666])] });
    const third = await applier.apply({ routes: [route('a', [666])] });
    expect(third).toMatchObject({ changed: false, reloaded: false, degraded: [{ app: 'a' }] });
    expect(state.reloads).toBe(1);
  });

  it('a config that cannot be written (a full disk) holds changes back, keeps the live config, and asks to retry', async () => {
    const { target, state } = fakeTarget();
    const applier = new NginxApplier({ target, logger });
    await applier.apply({ routes: [route('a', [1000]), route('b', [2000])] });
    const live = state.served;
    const write = target.test;
    target.test = async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const held = await applier.apply({ routes: [route('a', [1000]), route('b', [2001]), route('c', [3000])] });
    expect(held).toMatchObject({ changed: false, reloaded: false, retryLater: true });
    expect(held.degraded.map((d) => [d.app, d.reason])).toEqual([
      ['b', 'NginxConfigWriteFailed'],
      ['c', 'NginxConfigWriteFailed'],
    ]);
    expect(state.served).toBe(live);
    // Removing an app needs a new config: nothing can be done while it cannot be written.
    await expect(applier.apply({ routes: [route('a', [1000])] })).rejects.toThrow('ENOSPC');
    target.test = write;
    const after = await applier.apply({ routes: [route('a', [1000]), route('b', [2001]), route('c', [3000])] });
    expect(after).toMatchObject({ reloaded: true, degraded: [] });
  });
});
