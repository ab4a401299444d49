// Issue 10, items 1 and 15: a manifest that turns invalid, unreadable or half-written never removes
// a running app — not live, not across a controller restart (kill -9 or SIGTERM), not in git mode —
// and `autoserve plan` agrees with the daemon. The controller runs as a real `autoserve run`
// process; a steady load goes through nginx the whole time.
import { mkdir, mkdtemp, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFromWorld } from '../../src/controllers/containers/plan-from-world.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { appManifest } from '../support/app-manifest.js';
import { eventually } from '../support/eventually.js';
import { httpGet } from '../support/http-get.js';
import { createGitRemote, type GitRemote } from '../unit/source/git-remote.js';
import { startTestDaemon, type TestDaemon } from '../e2e/harness.js';
import { failuresOf, restartableDaemon, seconds, sleep, steadyLoad, type RestartableDaemon } from './chaos.js';
import { recordFigures } from './figures.js';
import { randomBytes } from 'node:crypto';
import { openValueSource } from '../../src/secrets/value-source.js';

const APP = 'web';
const HOST = `${APP}.localhost`;
const GOOD = appManifest(APP, { replicas: 2 });

describe('an invalid manifest never prunes, across restarts', () => {
  let d: RestartableDaemon;
  const ids = async () => (await d.replicas(APP)).map((r) => r.id).sort();
  /** What `autoserve plan` says for the app now, from the manifests, Docker and the store file. */
  const plan = async () => {
    const runtime = new DockerRuntime({ logger: pino({ level: 'silent' }) });
    try {
      return await planFromWorld({ runtime, instance: d.instance, manifestsDir: d.manifestsDir, statePath: join(d.stateDir, 'autoserve.json'), values: openValueSource({ env: process.env, openEnv: [], fingerprintKey: randomBytes(32) }) });
    } finally {
      runtime.close();
    }
  };

  beforeAll(async () => {
    d = await restartableDaemon('chaos-invalid');
    await d.writeManifest('web.yaml', GOOD);
    await d.start();
    await eventually(async () => expect((await httpGet(d.lbPort, HOST)).status).toBe(200), { timeoutMs: 30_000 });
    await eventually(async () => expect((await d.replicas(APP)).filter((r) => r.running)).toHaveLength(2), { timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await d?.cleanup();
  });

  const breakages: { name: string; restart: 'kill9' | 'stop'; write: () => Promise<void> }[] = [
    { name: 'schema error', restart: 'kill9', write: () => d.writeManifest('web.yaml', GOOD.replace('replicas: 2', 'replicas: -1')) },
    { name: 'broken YAML', restart: 'stop', write: () => d.writeManifest('web.yaml', `${GOOD}  ports: [unclosed\n`) },
    { name: 'document without a readable name', restart: 'kill9', write: () => d.writeManifest('web.yaml', GOOD.replace(`  name: ${APP}\n`, '')) },
    { name: 'renamed inside a file that has an error', restart: 'stop', write: () => d.writeManifest('web.yaml', GOOD.replace(`name: ${APP}`, 'name: web2').replace('replicas: 2', 'replicas: -1')) },
  ];

  for (const breakage of breakages) {
    it(`${breakage.name}, then ${breakage.restart === 'kill9' ? 'kill -9' : 'SIGTERM'} and restart: nothing is touched, plan agrees`, async () => {
      const before = await ids();
      const load = steadyLoad(d.lbPort, HOST);
      const started = Date.now();
      await breakage.write();
      await sleep(700); // the daemon sees it live first
      await (breakage.restart === 'kill9' ? d.kill9() : d.stop());
      await d.start();
      await sleep(4_000); // a resync period and more
      const result = await load.stop();
      recordFigures(`invalid manifest (${breakage.name}) + ${breakage.restart}`, { failedRequests: result.failed, sent: result.sent, seconds: seconds(started) });
      expect(await ids()).toEqual(before);
      expect(result.failed, failuresOf(result)).toBe(0);
      const world = await plan();
      expect(world.apps.find((a) => a.app === APP)).toMatchObject({ actions: [], converged: true });
      expect(world.kept).toContain(APP);
      await d.writeManifest('web.yaml', GOOD);
    });
  }

});

describe('directory mode: half-written files and missed events', () => {
  let t: TestDaemon;
  const ids = async () => (await t.containers(APP)).map((r) => r.id).sort();
  beforeAll(async () => {
    // A debounce with room on both sides of the write-back (700 ms), and no resync in the window.
    t = await startTestDaemon('chaos-dir', { debounceMs: 1_500, resyncMs: 600_000 });
    await t.writeManifest('web.yaml', GOOD);
    await eventually(async () => expect((await t.running(APP)).length).toBe(2), { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('a file caught empty mid-write is read again after the debounce before anything is pruned', async () => {
    const before = await ids();
    const file = join(t.manifestsDir, 'web.yaml');
    await truncate(file); // an editor truncated it; the load after the 1.5 s debounce reads it empty
    await sleep(2_200);
    await writeFile(file, GOOD); // ... and wrote it back before the confirming read (1.5 s after that)
    await sleep(5_000);
    expect(await ids()).toEqual(before);
    expect(t.daemon.store.events({ app: APP }).some((e) => e.reason === 'Pruning')).toBe(false);
  });

  it('a change no file event reports is picked up at the next resync (the directory is re-read)', async () => {
    // The directory the daemon watches is a link, switched to another directory (as a deploy tool
    // switching releases does): the watch stays on the old directory and reports nothing.
    const root = await mkdtemp(join(tmpdir(), 'autoserve-chaos-switch-'));
    const link = join(root, 'manifests');
    const releases = [join(root, 'r1'), join(root, 'r2')];
    for (const [i, dir] of releases.entries()) {
      await mkdir(dir);
      await writeFile(join(dir, 'sw.yaml'), appManifest('sw', { replicas: i + 1 }));
    }
    await symlink(releases[0]!, link);
    const s = await startTestDaemon('chaos-switch', { manifestsDir: link, resyncMs: 3_000 });
    try {
      await eventually(async () => expect((await s.running('sw')).length).toBe(1), { timeoutMs: 30_000 });
      await sleep(1_500);
      const started = Date.now();
      await symlink(releases[1]!, `${link}.next`);
      await rename(`${link}.next`, link);
      await eventually(async () => expect((await s.running('sw')).length).toBe(2), { timeoutMs: 15_000, intervalMs: 250 });
      recordFigures('manifest change without a file event', { secondsToConverge: seconds(started), resyncSeconds: 3 });
    } finally {
      await s.cleanup();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('git mode: an invalid commit never prunes, across a restart', () => {
  it('keeps the last good spec of an app whose manifest is broken in the checkout a restart restores', async () => {
    const remote: GitRemote = await createGitRemote('chaos-git');
    const t = await startTestDaemon('chaos-git', { gitUrl: remote.url, gitIntervalMs: 1_000 });
    try {
      await remote.commit({ 'web.yaml': GOOD }, 'web');
      await remote.push();
      await eventually(async () => expect((await t.running(APP)).length).toBe(2), { timeoutMs: 30_000 });
      const before = (await t.containers(APP)).map((c) => c.id).sort();
      await remote.commit({ 'web.yaml': GOOD.replace('replicas: 2', 'replicas: -1') }, 'break it');
      await remote.push();
      await eventually(() => expect(t.daemon.store.app(APP)?.conditions.some((c) => c.type === 'ManifestInvalid')).toBe(true), { timeoutMs: 15_000 });
      await t.restart();
      await sleep(6_000); // a resync and two polls
      expect((await t.containers(APP)).map((c) => c.id).sort()).toEqual(before);
      expect(t.daemon.desired.get(APP)?.manifest.spec.replicas).toBe(2);
    } finally {
      await t.cleanup();
      await remote.cleanup();
    }
  });
});
