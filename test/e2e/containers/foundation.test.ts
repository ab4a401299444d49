// Manifests in, containers out: the foundation end to end against the real Docker engine.
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_APP, LABEL_INSTANCE, LABEL_MANAGED, LABEL_REVISION } from '../../../src/core/labels.js';
import { eventually } from '../../support/eventually.js';
import { appManifest } from '../../support/app-manifest.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

describe('foundation: manifests to containers', () => {
  let t: TestDaemon;

  beforeAll(async () => {
    t = await startTestDaemon('foundation');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('runs the replicas a manifest asks for, labelled, on AutoServe\'s network with nothing published', async () => {
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 2 }));
    const running = await eventually(async () => {
      const list = await t.running('web');
      expect(list).toHaveLength(2);
      return list;
    }, { timeoutMs: 30_000 });
    for (const c of running) {
      expect(c.labels[LABEL_MANAGED]).toBe('true');
      expect(c.labels[LABEL_APP]).toBe('web');
      expect(c.labels[LABEL_INSTANCE]).toBe(t.options.instance);
      expect(c.labels[LABEL_REVISION]).toMatch(/^[0-9a-f]{10}$/);
      const address = c.addresses[8080];
      expect(c.network).toBe(t.options.instance === 'default' ? 'autoserve' : `autoserve-${t.options.instance}`);
      expect(address?.host).not.toMatch(/^127\./);
      expect(address?.port).toBe(8080);
      expect(c.published).toEqual({});
      const res = await fetch(`http://${address?.host}:${address?.port}/healthz`);
      expect(res.status).toBe(200);
    }
    await eventually(() => expect(t.daemon.store.app('web')?.phase).toBe('Running'), { timeoutMs: 20_000 });
    expect(t.daemon.store.app('web')?.replicas).toMatchObject({ desired: 2, ready: 2, updated: 2 });
  });

  it('follows a change of spec.replicas up and down', async () => {
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 4 }));
    await eventually(async () => expect(await t.running('web')).toHaveLength(4), { timeoutMs: 30_000 });
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 1 }));
    await eventually(async () => expect(await t.containers('web')).toHaveLength(1), { timeoutMs: 30_000 });
  });

  it('replaces a replica that is killed', async () => {
    const [victim] = await t.running('web');
    execFileSync('docker', ['kill', victim!.id]);
    await eventually(async () => {
      const list = await t.running('web');
      expect(list).toHaveLength(1);
      expect(list[0]!.id).not.toBe(victim!.id);
    }, { timeoutMs: 30_000 });
    const events = t.daemon.store.events({ app: 'web' }).map((e) => e.reason);
    expect(events).toContain('Removed');
  });

  it('keeps a good app untouched when an invalid manifest appears beside it, and records the error', async () => {
    const before = (await t.running('web')).map((c) => c.id);
    await t.writeManifest('bad.yaml', appManifest('bad', { spec: '  replica: 3' }));
    await t.writeManifest('broken.yaml', 'apiVersion: v1\nkind: App\nmetadata: [unclosed\n');
    await eventually(() => {
      const bad = t.daemon.store.app('bad');
      expect(bad?.phase).toBe('Failed');
      expect(bad?.conditions.find((c) => c.type === 'ManifestInvalid')?.message).toMatch(/bad\.yaml.*\/spec\/replica/);
    });
    const events = t.daemon.store.events().filter((e) => e.reason === 'ManifestInvalid').map((e) => e.message);
    expect(events.some((m) => m.includes('broken.yaml'))).toBe(true);
    expect(await t.containers('bad')).toHaveLength(0);
    expect((await t.running('web')).map((c) => c.id)).toEqual(before);
    await t.removeManifest('bad.yaml');
    await t.removeManifest('broken.yaml');
  });

  it('an invalid edit of a running app keeps its last good spec running', async () => {
    const before = (await t.running('web')).map((c) => c.id);
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 1, spec: '  ports: oops' }));
    await eventually(() => {
      const web = t.daemon.store.app('web');
      expect(web?.conditions.find((c) => c.type === 'ManifestInvalid')?.status).toBe('True');
    });
    await t.daemon.resyncAll();
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await t.running('web')).map((c) => c.id)).toEqual(before);
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 1 }));
    await eventually(() => expect(t.daemon.store.app('web')?.conditions.some((c) => c.type === 'ManifestInvalid')).toBe(false));
  });

  it('shows ImagePullFailed for a missing image, without hanging, and leaves other apps alone', async () => {
    await t.writeManifest('ghost.yaml', appManifest('ghost', { image: 'autoserve-no-such-image:404' }));
    await eventually(() => {
      const ghost = t.daemon.store.app('ghost');
      expect(ghost?.phase).toBe('Failed');
      expect(ghost?.conditions.find((c) => c.type === 'ImagePullFailed')?.message).toMatch(/autoserve-no-such-image:404/);
    }, { timeoutMs: 20_000 });
    expect(await t.containers('ghost')).toHaveLength(0);
    expect(await t.running('web')).toHaveLength(1);
    await t.removeManifest('ghost.yaml');
  });

  it('adopts its containers after a restart: no duplicates', async () => {
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 3 }));
    await eventually(async () => expect(await t.running('web')).toHaveLength(3), { timeoutMs: 30_000 });
    const before = (await t.running('web')).map((c) => c.id).sort();
    await t.restart();
    await t.daemon.resyncAll();
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await t.containers('web')).map((c) => c.id).sort()).toEqual(before);
  });

  it('removes an app whose manifest is deleted', async () => {
    await t.writeManifest('keep.yaml', appManifest('keep'));
    await eventually(async () => expect(await t.running('keep')).toHaveLength(1), { timeoutMs: 30_000 });
    await t.removeManifest('web.yaml');
    await eventually(async () => expect(await t.containers('web')).toHaveLength(0), { timeoutMs: 30_000 });
    await eventually(() => expect(t.daemon.store.app('web')).toBeUndefined());
  });

  it('an empty manifest directory removes nothing (prune guard)', async () => {
    await t.removeManifest('keep.yaml');
    await eventually(() => expect(t.daemon.store.events().some((e) => e.reason === 'PruneBlocked')).toBe(true));
    await t.daemon.resyncAll();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await t.running('keep')).toHaveLength(1);
  });
});

describe('foundation: kill -9 of the controller process', () => {
  it('a restarted controller adopts the replicas instead of duplicating them', async () => {
    const t = await startTestDaemon('kill9');
    try {
      await t.stop(); // the in-process daemon is not used: a real process is killed below
      await t.writeManifest('api.yaml', appManifest('api', { replicas: 2 }));
      const args = ['dist/cli/main.js', 'run', '--manifests', t.manifestsDir, '--state', t.stateDir, '--resync', '2s', '--log-level', 'warn', '--lb-port', String(t.options.lbPort)];
      const env = { ...process.env, AUTOSERVE_INSTANCE: t.options.instance, AUTOSERVE_CONTAINER_LABELS: JSON.stringify(t.env.labels) };
      const first = spawn(process.execPath, args, { env, stdio: 'ignore' });
      await eventually(async () => expect(await t.running('api')).toHaveLength(2), { timeoutMs: 30_000 });
      const before = (await t.running('api')).map((c) => c.id).sort();
      first.kill('SIGKILL');
      const second = spawn(process.execPath, args, { env, stdio: 'ignore' });
      try {
        await new Promise((r) => setTimeout(r, 4_000));
        expect((await t.containers('api')).map((c) => c.id).sort()).toEqual(before);
      } finally {
        second.kill('SIGTERM');
      }
    } finally {
      await t.cleanup();
    }
  });
});
