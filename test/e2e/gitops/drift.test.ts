// Drift: hand edits of the host are put back by the next reconcile and leave an event behind.
// Real Docker; the plain watched-directory source (drift correction does not depend on the source).
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nginxPrefixDir } from '../../../src/controllers/routes/nginx-paths.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_APP, LABEL_INSTANCE, LABEL_MANAGED, LABEL_REVISION, LABEL_SLOT } from '../../../src/core/labels.js';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { appManifest } from '../../support/app-manifest.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

describe('drift is reverted', () => {
  let t: TestDaemon;

  beforeAll(async () => {
    t = await startTestDaemon('drift');
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 2 }));
    await eventually(async () => {
      expect(await t.running('web')).toHaveLength(2);
      expect(t.daemon.store.app('web')?.replicas.ready).toBe(2);
    }, { timeoutMs: 40_000, message: 'web converged' });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('recreates a replica removed by hand and records it', async () => {
    const [victim, survivor] = await t.running('web');
    const since = Date.now(); // by time: a repeat collapses into an earlier row (count, time), it adds none
    execFileSync('docker', ['rm', '--force', victim!.id]);
    const after = await eventually(async () => {
      const list = await t.running('web');
      expect(list).toHaveLength(2);
      expect(list.map((c) => c.id)).not.toContain(victim!.id);
      return list;
    }, { timeoutMs: 30_000, message: 'a replacement replica' });
    expect(after.map((c) => c.id)).toContain(survivor!.id); // the healthy one was left alone
    const recent = t.daemon.store.events({ app: 'web', sinceMs: since });
    expect(recent.some((e) => e.reason === 'Created')).toBe(true);
    expect(recent.some((e) => e.reason === 'DriftCorrected' && e.message.includes('recreating 1 missing'))).toBe(true);
    await eventually(async () => {
      const res = await httpGet(t.options.lbPort, 'web.localhost', '/healthz');
      expect(res.status).toBe(200);
    }, { timeoutMs: 20_000, message: 'web serving through nginx' });
  });

  it('removes an extra container started by hand with our labels, and records it', async () => {
    const [model] = await t.running('web');
    const since = Date.now(); // by time: a repeat collapses into an earlier row (count, time), it adds none
    const labels = {
      ...t.env.labels,
      [LABEL_MANAGED]: 'true',
      [LABEL_INSTANCE]: t.options.instance,
      [LABEL_APP]: 'web',
      [LABEL_REVISION]: model!.revision,
      [LABEL_SLOT]: '7',
    };
    const extraName = `${t.options.instance}-by-hand`;
    const extraId = execFileSync('docker', [
      'run', '--detach', '--init', '--name', extraName,
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      'autoserve-demo:v1',
    ], { encoding: 'utf8' }).trim();
    await eventually(async () => {
      const all = await t.containers('web');
      expect(all.map((c) => c.id)).not.toContain(extraId);
      expect(all.filter((c) => c.running)).toHaveLength(2);
    }, { timeoutMs: 30_000, message: 'the extra container removed' });
    const recent = t.daemon.store.events({ app: 'web', sinceMs: since });
    expect(recent.some((e) => (e.reason === 'Removed' || e.reason === 'Draining') && e.message.includes(extraName))).toBe(true);
    expect(recent.some((e) => e.reason === 'DriftCorrected' && e.message.includes('removing 1 extra'))).toBe(true);
  });

  it('leaves containers without our instance label alone', async () => {
    const foreign = execFileSync('docker', [
      'run', '--detach', '--init',
      ...Object.entries({ ...t.env.labels, [LABEL_APP]: 'web' }).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      'autoserve-demo:v1',
    ], { encoding: 'utf8' }).trim();
    await t.daemon.resyncAll();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const state = execFileSync('docker', ['inspect', '--format', '{{.State.Running}}', foreign], { encoding: 'utf8' }).trim();
    expect(state).toBe('true');
    execFileSync('docker', ['rm', '--force', foreign]);
  });

  it('restores a hand-edited nginx config at the next resync, and records it', async () => {
    const appsConf = join(nginxPrefixDir(t.stateDir), 'conf', 'apps.conf');
    const ours = await readFile(appsConf, 'utf8');
    // A hand edit that sends web.localhost to a dead port, applied with a reload.
    await writeFile(appsConf, ours.replace(/server 127\.0\.0\.1:\d+/g, 'server 127.0.0.1:9'));
    execFileSync('nginx', ['-p', `${nginxPrefixDir(t.stateDir)}/`, '-c', join(nginxPrefixDir(t.stateDir), 'conf', 'nginx.conf'), '-s', 'reload']);
    await t.daemon.resyncAll();
    await eventually(async () => {
      expect(await readFile(appsConf, 'utf8')).toBe(ours);
      expect(t.daemon.store.events().some((e) => e.reason === 'DriftReverted')).toBe(true);
      expect((await httpGet(t.options.lbPort, 'web.localhost', '/healthz')).status).toBe(200);
    }, { timeoutMs: 20_000, message: 'nginx config restored' });
  });
});
