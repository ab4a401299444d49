// Issue 10 item 9: the disk under the state dir fills up to the last byte while apps serve (the
// real CLI, its state dir on a small tmpfs of its own). The daemon stays up, apps keep serving and
// keep changing (a replica added goes into nginx), a store write that fails is retried and logged
// once for the whole outage, a route change that needs a config write keeps the live config, and
// once space is back everything converges and the store is valid JSON again.
import { execFileSync } from 'node:child_process';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { fetchServedConfigId } from '../../src/controllers/routes/config-id-probe.js';
import { nginxPrefixDir } from '../../src/controllers/routes/nginx-paths.js';
import { CONTROL_DIR, CONTROL_SOCKET_FILE } from '../../src/controllers/routes/nginx-process.js';
import type { AppStatus, StoreData } from '../../src/store/status-model.js';
import { appManifest } from '../support/app-manifest.js';
import { CliDaemon } from '../support/cli-daemon.js';
import { createDaemonDirs, stopTestNginx, type DaemonDirs } from '../support/daemon-dirs.js';
import { eventually } from '../support/eventually.js';
import { httpGet } from '../support/http-get.js';
import { LoadGenerator } from '../support/load-generator.js';
import { outageSeconds, recordFigures } from './figures.js';

const TMPFS_SIZE = '16m';
const FULL_FOR_MS = 12_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the disk under the state dir fills up (real CLI, tmpfs)', () => {
  let dirs: DaemonDirs;
  let daemon: CliDaemon;
  let mounted = false;
  const fillFile = () => join(dirs.stateDir, 'zz-fill');

  beforeAll(async () => {
    dirs = await createDaemonDirs('chaos-disk-full');
    await mkdir(dirs.stateDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'autoserve-chaos-disk', dirs.stateDir]);
    mounted = true;
    await dirs.writeManifest('web.yaml', appManifest('web', { replicas: 2 }));
    daemon = new CliDaemon(dirs.cliOptions());
    await eventually(async () => expect((await apps()).web?.replicas.ready).toBe(2), { timeoutMs: 60_000, intervalMs: 250 });
  });
  afterAll(async () => {
    await daemon?.stop();
    if (dirs) await stopTestNginx(dirs.stateDir, dirs.lbPort);
    if (mounted) execFileSync('umount', ['-l', dirs.stateDir]);
    await dirs?.cleanup();
  });

  /** The status endpoint's apps by name (the daemon's memory, whatever the disk holds). */
  const apps = async (): Promise<Record<string, AppStatus>> =>
    Object.fromEntries((JSON.parse((await httpGet(dirs.apiPort, '127.0.0.1', '/apps', 2_000)).body) as { apps: AppStatus[] }).apps.map((a) => [a.name, a]));
  const served = () => fetchServedConfigId({ socketPath: join(nginxPrefixDir(dirs.stateDir), CONTROL_DIR, CONTROL_SOCKET_FILE) });
  const count = (text: string) => daemon.log.split('\n').filter((l) => l.includes(text)).length;

  it('stays up and serving while full, and converges with a valid store once space is back', async () => {
    onTestFailed(() => console.log(`daemon output:\n${daemon.log.split('\n').filter((l) => !l.includes('"level":30')).slice(-40).join('\n')}`));
    const load = new LoadGenerator({ port: dirs.lbPort, hostHeader: 'web.localhost', ratePerSec: 20, durationMs: FULL_FOR_MS + 25_000, timeoutMs: 3_000, isOk: (s) => s === 200 });
    const running = load.run();
    await sleep(1_000);
    const configBefore = await served();

    const filledBytes = await fillToTheLastByte(fillFile());
    const fullAt = Date.now();
    // Changes while full: one replica more for web (membership only), and a new app (a new route: a config write).
    await dirs.writeManifest('web.yaml', appManifest('web', { replicas: 3 }));
    await dirs.writeManifest('api.yaml', appManifest('api', { replicas: 1 }));
    await eventually(async () => expect((await apps()).web?.replicas.ready).toBe(3), { timeoutMs: 30_000, intervalMs: 250, message: 'web scaled and served while the disk is full' });
    await sleep(Math.max(0, FULL_FOR_MS - (Date.now() - fullAt)));
    expect(daemon.child.exitCode, 'the daemon is up').toBeNull();
    expect(await served(), 'the live nginx config stays (the new route could not be written)').toBe(configBefore);
    expect((await httpGet(dirs.lbPort, 'api.localhost', '/', 2_000)).status).toBe(404);
    expect(count('store write failed'), 'a store outage is logged once').toBe(1);

    await rm(fillFile());
    const freedAt = Date.now();
    await eventually(
      async () => {
        const onDisk = JSON.parse(await readFile(join(dirs.stateDir, 'autoserve.json'), 'utf8')) as StoreData;
        expect(onDisk.apps.web?.replicas).toMatchObject({ desired: 3, ready: 3 });
        expect(onDisk.apps.api?.replicas.ready).toBe(1);
        expect((await httpGet(dirs.lbPort, 'api.localhost', '/', 2_000)).status).toBe(200);
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'converged after space came back' },
    );
    const convergedMs = Date.now() - freedAt;
    load.stop();
    const result = await running;
    expect(count('store written again')).toBe(1);
    recordFigures('disk-full', {
      filledMiB: filledBytes / 2 ** 20,
      fullS: (freedAt - fullAt) / 1000,
      convergedAfterSpaceS: convergedMs / 1000,
      requests: result.sent,
      failed: result.failed,
      outageS: outageSeconds(result.failures),
    });
    expect(result.failed).toBe(0);
  });
});

/** Writes zeros until the file system refuses even one more byte; returns how many were written. */
async function fillToTheLastByte(file: string): Promise<number> {
  const handle = await open(file, 'w');
  let written = 0;
  try {
    for (const chunk of [1 << 20, 1 << 16, 1 << 12, 1]) {
      const buffer = Buffer.alloc(chunk);
      for (;;) {
        try {
          written += (await handle.write(buffer)).bytesWritten;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    await handle.close();
  }
  return written;
}
