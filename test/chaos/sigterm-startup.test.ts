// Issue 10 item 14: SIGTERM at any moment of `autoserve run` exits cleanly with code 0, start-up
// included, and leaves no half-started nginx and no half-written file. The real CLI process gets
// SIGTERM at many points: fixed delays after spawn, and at once after each start-up log line.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxPrefixDir } from '../../src/controllers/routes/nginx-paths.js';
import { NginxProcess } from '../../src/controllers/routes/nginx-process.js';
import { fetchServedConfigId } from '../../src/controllers/routes/config-id-probe.js';
import { appManifest } from '../support/app-manifest.js';
import { CliDaemon, nodeBootMs } from '../support/cli-daemon.js';
import { createDaemonDirs, stopTestNginx, type DaemonDirs } from '../support/daemon-dirs.js';
import { nginxProcessesUnder } from '../support/nginx-processes.js';
import { recordFigures } from './figures.js';

/**
 * Milliseconds after node has booted (module loading, Docker ping, store, nginx, first pass...).
 * During node's own boot (tens of ms; nodeBootMs) no code of ours runs and nothing is touched: a
 * SIGTERM then ends node by the signal, as it would any program that has not started.
 */
const DELAYS_MS = [0, 100, 400, 800, 1_400, 2_200];
/**
 * Start-up log lines; SIGTERM goes out the moment each is printed. `fresh`: the app's replica is
 * removed first, so that start creates one (and routes it).
 */
const LINES: { line: RegExp; fresh?: boolean; thenMs?: number }[] = [
  { line: /nginx membership/ },
  { line: /started nginx master/ },
  { line: /manifests loaded/ },
  { line: /action done/, fresh: true },
  { line: /action done/, fresh: true, thenMs: 300 }, // while the new replica is probed and routed
];
/** Files that only exist while being written. */
const TEMP_FILE = /\.tmp|candidate|lua-probe/;

describe('SIGTERM during start-up (real CLI)', () => {
  let dirs: DaemonDirs;
  let nginx: NginxProcess;

  beforeAll(async () => {
    dirs = await createDaemonDirs('chaos-sigterm');
    await dirs.writeManifest('web.yaml', appManifest('web', { replicas: 1 }));
    nginx = new NginxProcess({ prefixDir: nginxPrefixDir(dirs.stateDir), listen: { host: '127.0.0.1', port: dirs.lbPort }, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await dirs?.cleanup();
  });

  /** After an exit: no temp file, a store that parses, and nginx either fully up or not there at all. */
  async function expectCleanState(when: string): Promise<void> {
    const leftovers = (await listFiles(dirs.stateDir)).filter((f) => TEMP_FILE.test(f));
    expect(leftovers, `${when}: files left half-written`).toEqual([]);
    const store = await readFile(join(dirs.stateDir, 'autoserve.json'), 'utf8').catch(() => undefined);
    if (store !== undefined) expect(() => JSON.parse(store), `${when}: store parses`).not.toThrow();
    const master = await nginx.pid();
    const processes = await nginxProcessesUnder(nginx.prefixDir);
    if (master === undefined) {
      expect(processes, `${when}: no nginx of ours without a master`).toEqual([]);
    } else {
      expect(await fetchServedConfigId({ socketPath: nginx.controlSocket }), `${when}: our nginx master ${master} serves`).toBeTruthy();
    }
  }

  async function termAndCheck(when: string, kill: (daemon: CliDaemon) => Promise<void>): Promise<number> {
    const daemon = new CliDaemon(dirs.cliOptions());
    await kill(daemon);
    const sentAt = daemon.ageMs;
    const exit = await daemon.stop(30_000);
    const stopMs = daemon.ageMs - sentAt;
    // Ended by the signal before it printed anything: node was still loading (a slow machine's boot
    // outlasts the measured one); nothing of ours ran, which the clean-state check below confirms.
    const beforeOurCode = exit.signal === 'SIGTERM' && daemon.log.trim() === '';
    if (!beforeOurCode) expect(exit, `${when}: exit after SIGTERM at ${sentAt} ms; output:\n${daemon.log.slice(-2000)}`).toEqual({ code: 0, signal: null });
    expect(stopMs, `${when}: exit within 10 s of SIGTERM`).toBeLessThan(10_000);
    await expectCleanState(when);
    await stopTestNginx(dirs.stateDir, dirs.lbPort); // the next start sets nginx up again
    return sentAt;
  }

  it('exits 0 with nothing half-made, whenever SIGTERM arrives', async () => {
    const boot = Math.round((await nodeBootMs()) * 1.5);
    const sentAt: string[] = [`node boot ${boot} ms`];
    for (const delay of DELAYS_MS) {
      await termAndCheck(`${delay} ms after node's boot`, () => new Promise((r) => setTimeout(r, boot + delay)));
      sentAt.push(`${delay}ms`);
    }
    for (const { line, fresh, thenMs = 0 } of LINES) {
      if (fresh) await dirs.env.cleanup();
      const at = await termAndCheck(`${thenMs} ms after ${line}`, async (d) => {
        await d.waitForLine(line);
        await new Promise((r) => setTimeout(r, thenMs));
      });
      sentAt.push(`${line.source}+${thenMs}@${at}ms`);
    }
    recordFigures('sigterm-startup', { sigterms: sentAt.length - 1, allExit0: true, points: sentAt.join(' ') });
  });
});

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String);
}
