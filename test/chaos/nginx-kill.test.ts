// Issue 10 item 6: kill -9 of our nginx master under load. Its workers are orphaned and keep the
// listening socket; within 5 s a new master must serve the current config, no orphaned worker of
// ours may be left after 10 s, and route and membership changes must work afterwards. Another
// instance's nginx (a live master, and orphaned workers of a killed one) is never touched.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchServedConfigId } from '../../src/controllers/routes/config-id-probe.js';
import { nginxPrefixDir } from '../../src/controllers/routes/nginx-paths.js';
import { NginxProcess } from '../../src/controllers/routes/nginx-process.js';
import { processInfo } from '../../src/controllers/routes/nginx-workers.js';
import { appManifest } from '../support/app-manifest.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { httpGet } from '../support/http-get.js';
import { LoadGenerator } from '../support/load-generator.js';
import { nginxProcessesUnder } from '../support/nginx-processes.js';
import { startTestDaemon, type TestDaemon } from '../e2e/harness.js';
import { outageSeconds, recordFigures } from './figures.js';

const ECHO = 'autoserve-node-echo:v1';
const RECOVERY_BOUND_MS = 5_000;
const ORPHAN_BOUND_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill -9 of the nginx master under load', () => {
  let t: TestDaemon;
  let ours: NginxProcess;
  let foreignRoot: string;
  let foreignLive: NginxProcess;
  let foreignDead: NginxProcess;
  const foreignOrphans: number[] = [];

  beforeAll(async () => {
    t = await startTestDaemon('chaos-nginx-kill');
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 2, image: ECHO }));
    ours = new NginxProcess({ prefixDir: nginxPrefixDir(t.stateDir), listen: { host: '127.0.0.1', port: t.options.lbPort }, logger: pino({ level: 'silent' }) });
    await eventually(() => expect(t.daemon.store.app('web')?.replicas.ready).toBe(2), { timeoutMs: 60_000, intervalMs: 200 });

    // Another AutoServe instance's nginx: one live master, and the orphaned workers of a killed one.
    foreignRoot = await mkdtemp(join(tmpdir(), 'autoserve-foreign-nginx-'));
    const foreign = async (name: string) => {
      const nginx = new NginxProcess({ prefixDir: join(foreignRoot, name), listen: { host: '127.0.0.1', port: await freePort() }, logger: pino({ level: 'silent' }) });
      await nginx.apply({ routes: [] });
      return nginx;
    };
    foreignLive = await foreign('live');
    foreignDead = await foreign('dead');
    const deadMaster = (await foreignDead.pid())!;
    foreignOrphans.push(...(await nginxProcessesUnder(foreignDead.prefixDir)).filter((p) => p.ppid === deadMaster).map((p) => p.pid));
    process.kill(deadMaster, 'SIGKILL');
    await eventually(async () => expect(await processInfo(deadMaster)).toBeUndefined());
  });
  afterAll(async () => {
    for (const pid of foreignOrphans) {
      try {
        process.kill(pid, 'SIGKILL'); // ours to clean: this test started them
      } catch {
        // gone already
      }
    }
    await foreignLive?.stop().catch(() => undefined);
    if (foreignRoot) await rm(foreignRoot, { recursive: true, force: true });
    await t?.cleanup();
  });

  it('a new master serves the current config within 5 s, orphans are gone, changes still work', async () => {
    const master = (await ours.pid())!;
    const oldWorkers = (await nginxProcessesUnder(ours.prefixDir)).filter((p) => p.ppid === master).map((p) => p.pid);
    expect(oldWorkers.length).toBeGreaterThan(0);
    const load = new LoadGenerator({ port: t.options.lbPort, hostHeader: 'web.localhost', ratePerSec: 50, durationMs: 14_000, timeoutMs: 3_000, isOk: (s) => s === 200 });
    const done = load.run();
    await sleep(2_000);

    const killedAt = Date.now();
    process.kill(master, 'SIGKILL');
    const newMaster = await eventually(
      async () => {
        const pid = await ours.pid();
        expect(pid).toBeDefined();
        expect(pid).not.toBe(master);
        expect((await httpGet(t.options.lbPort, 'web.localhost', '/', 1_000)).status).toBe(200);
        return pid!;
      },
      { timeoutMs: RECOVERY_BOUND_MS * 2, intervalMs: 25, message: 'a new master serving' },
    );
    const servingMs = Date.now() - killedAt;
    // The current config: what is on disk (rendered from the current table) is what is served.
    await eventually(async () => {
      const onDisk = /Config id (\w+)\./.exec(await readFile(ours.appsConfPath, 'utf8'))?.[1];
      expect(await fetchServedConfigId({ socketPath: ours.controlSocket })).toBe(onDisk);
    });

    const orphansGone = await eventually(
      async () => {
        const left = (await nginxProcessesUnder(ours.prefixDir)).filter((p) => p.pid !== newMaster && p.ppid !== newMaster);
        expect(left).toEqual([]);
        return Date.now() - killedAt;
      },
      { timeoutMs: ORPHAN_BOUND_MS + 2_000, intervalMs: 100, message: 'no orphaned worker of ours' },
    );
    // Independently of how AutoServe tells its processes: only the new master's family listens on the port.
    const listeners = listeningPids(t.options.lbPort);
    for (const pid of listeners) expect([newMaster, (await processInfo(pid))?.ppid]).toContain(newMaster);
    for (const pid of oldWorkers) expect(await processInfo(pid), `old worker ${pid} is gone`).toBeUndefined();

    const result = await done;
    expect(servingMs).toBeLessThan(RECOVERY_BOUND_MS);
    expect(orphansGone).toBeLessThan(ORPHAN_BOUND_MS);
    expect(t.daemon.store.events({ limit: 200 }).some((e) => e.reason === 'NginxRestarted')).toBe(true);
    recordFigures('nginx-kill', {
      servingAgainS: servingMs / 1000,
      orphansGoneS: orphansGone / 1000,
      requests: result.sent,
      failed: result.failed,
      outageS: outageSeconds(result.failures),
      keepAliveRetries: result.keepAliveRetries,
    });

    // Another instance's nginx was not touched.
    expect(await foreignLive.pid()).toBeDefined();
    for (const pid of foreignOrphans) expect(await processInfo(pid), `foreign orphan ${pid} untouched`).toBeDefined();

    // Routes and membership still change: a new app is routed, and a third replica of web serves.
    await t.writeManifest('api.yaml', appManifest('api', { replicas: 1, image: ECHO }));
    await eventually(async () => expect((await httpGet(t.options.lbPort, 'api.localhost', '/', 1_000)).status).toBe(200), { timeoutMs: 30_000, intervalMs: 200 });
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 3, image: ECHO }));
    await eventually(
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 30; i++) seen.add((JSON.parse((await httpGet(t.options.lbPort, 'web.localhost', '/', 1_000)).body) as { hostname: string }).hostname);
        expect(seen.size).toBe(3);
      },
      { timeoutMs: 30_000, intervalMs: 200, message: 'three replicas of web served' },
    );
  });
});

/** Pids holding a listening TCP socket on the port (ss, independent of /proc scanning of ours). */
function listeningPids(port: number): number[] {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}
