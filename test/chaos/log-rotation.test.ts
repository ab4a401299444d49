// Issue 10 item 10: logs never fill the disk. The controller log and nginx's logs rotate by size
// under one cap (a rename, then nginx reopens on USR1), and the access-log reader follows every
// rotation without losing or counting twice a single request.
// - real nginx, the real reader and rotator, a small cap and a steady load: the requests the reader
//   counted, second by second, add up to exactly the requests nginx answered;
// - the real CLI with --log-max-size 1Mi under load: the logs stay under the cap, and the
//   autoscaler's request rate keeps reading through the rotations. Its state dir is under a 0700
//   temp dir, where nginx's workers cannot reopen logs: rotation falls back to a graceful reload.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFile, chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogRotator } from '../../src/controllers/logs/log-rotator.js';
import { NginxProcess } from '../../src/controllers/routes/nginx-process.js';
import { AccessLogMetrics } from '../../src/observe/index-metrics.js';
import { appManifest } from '../support/app-manifest.js';
import { CliDaemon } from '../support/cli-daemon.js';
import { createDaemonDirs, type DaemonDirs } from '../support/daemon-dirs.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { httpGet } from '../support/http-get.js';
import { LoadGenerator } from '../support/load-generator.js';
import { recordFigures } from './figures.js';

const MiB = 1024 * 1024;
const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes of every file under a directory. */
async function bytesUnder(dir: string, match: (name: string) => boolean = () => true): Promise<{ bytes: number; files: string[] }> {
  const files = ((await readdir(dir, { recursive: true })) as string[]).filter(match);
  let bytes = 0;
  for (const f of files) {
    const st = await stat(join(dir, f)).catch(() => undefined);
    if (st?.isFile()) bytes += st.size;
  }
  return { bytes, files };
}

describe('log rotation under load', () => {
  describe('real nginx, reader and rotator', () => {
    let dir: string;
    let upstream: http.Server;
    let nginx: NginxProcess;
    let port: number;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'autoserve-chaos-rotation-'));
      await chmod(dir, 0o755); // nginx's workers (nobody) reach the logs dir: they reopen on USR1 themselves
      upstream = http.createServer((_req, res) => res.end('ok\n'));
      await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
      port = await freePort();
      // Two workers whatever the machine: each must reopen its logs, and the count stays the same everywhere.
      nginx = new NginxProcess({ prefixDir: join(dir, 'nginx'), listen: { host: '127.0.0.1', port }, logger, workerProcesses: 2 });
      await nginx.apply({ routes: [{ app: 'web', host: 'web.localhost', pathPrefix: '/', servers: [{ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port }] }] });
    });
    afterAll(async () => {
      await nginx?.stop().catch(() => undefined);
      upstream?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('counts every request exactly once across rotations', async () => {
      const metrics = new AccessLogMetrics({ logsDir: nginx.logsDir, logger, windowSeconds: 120, pollIntervalMs: 1_000 });
      const capBytes = 1 * MiB;
      const rotations: string[] = [];
      const rotationLog = pino({ level: 'info' }, { write: (line: string) => void rotations.push(...((JSON.parse(line) as { rotated?: string[] }).rotated ?? [])) });
      const rotator = new LogRotator({ capBytes, intervalMs: 500, logger: rotationLog, groups: [{ name: 'nginx', dir: nginx.logsDir, reopen: () => nginx.reopenLogs() }] });
      await metrics.start();
      rotator.start();
      const startedAt = Date.now();
      let largest = 0;
      const sampler = setInterval(() => void bytesUnder(nginx.logsDir).then((b) => (largest = Math.max(largest, b.bytes))), 200);
      try {
        const result = await new LoadGenerator({ port, hostHeader: 'web.localhost', ratePerSec: 300, durationMs: 12_000, isOk: (s) => s === 200 }).run();
        // The last lines reach the reader once nginx flushes them (1 s) and a renamed file has gone
        // quiet: wait for the count to come in, then check it stays (never counted twice).
        const countNow = async () => {
          await metrics.poll();
          return metrics.series('web', 'rps', startedAt - 2_000).reduce((n, p) => n + (p.value ?? 0), 0);
        };
        let counted = 0;
        for (let i = 0; i < 40 && counted < result.ok; i++) {
          await sleep(250);
          counted = await countNow();
        }
        await sleep(1_500);
        counted = await countNow();
        const accessRotations = rotations.filter((f) => f.endsWith('access-web.log')).length;
        recordFigures('log-rotation', { requests: result.ok, counted, accessLogRotations: accessRotations, largestLogsMiB: largest / MiB, capMiB: capBytes / MiB });
        expect(result.failed).toBe(0);
        expect(accessRotations).toBeGreaterThanOrEqual(3);
        expect(counted, 'every request counted once').toBe(result.ok);
        // Between two looks (500 ms) the logs grow by ~150 requests' lines at most.
        expect(largest).toBeLessThan(capBytes + 256 * 1024);
      } finally {
        clearInterval(sampler);
        await rotator.stop();
        await metrics.stop();
      }
    });
  });

  describe('the real CLI with --log-max-size 1Mi', () => {
    let dirs: DaemonDirs;
    let daemon: CliDaemon;

    beforeAll(async () => {
      dirs = await createDaemonDirs('chaos-log-cap');
      // Autoscaled (between 1 and 1): the autoscaler reads its request rate from the access log.
      const scaling = ['  scaling:', '    minReplicas: 1', '    maxReplicas: 1', '    policy:', '      mode: auto', '      http:', '        targetRPSPerReplica: 1000'].join('\n');
      await dirs.writeManifest('web.yaml', appManifest('web', { replicas: 1, spec: scaling }));
      daemon = new CliDaemon(dirs.cliOptions({ extraArgs: ['--log-max-size', '1Mi', '--log-level', 'debug'] }));
      await eventually(async () => expect((await httpGet(dirs.lbPort, 'web.localhost', '/', 1_000)).status).toBe(200), { timeoutMs: 60_000, intervalMs: 250 });
    });
    afterAll(async () => {
      await daemon?.stop();
      await dirs?.cleanup();
    });

    it('keeps the logs of the state dir under the cap, and the request rate reads on', async () => {
      const isLog = (name: string) => /\.log(\.1)?$/.test(name);
      let largest = 0;
      const sampler = setInterval(() => void bytesUnder(dirs.stateDir, isLog).then((b) => (largest = Math.max(largest, b.bytes))), 250);
      try {
        // The controller log grows slowly: give it its share at once (as a long debug session would).
        const controllerLog = join(dirs.stateDir, 'autoserve-controller.log');
        await appendFile(controllerLog, `${JSON.stringify({ level: 20, msg: 'filler '.repeat(60) })}\n`.repeat(1_000));
        const load = new LoadGenerator({ port: dirs.lbPort, hostHeader: 'web.localhost', ratePerSec: 150, durationMs: 12_000, isOk: (s) => s === 200 }).run();
        // Read while the load still runs, after several rotations (the rotator looks every 2 s). The
        // rate is a 5 s history sample taken every 5 s behind a 2-3 s log lag: poll for one whole
        // sample of the load, not the rate's rise or decay.
        await sleep(6_000);
        type Current = { current: { requestsPerSecond: number } };
        const readRate = async () => (JSON.parse((await httpGet(dirs.apiPort, '127.0.0.1', '/apps/web/metrics', 2_000)).body) as Current).current.requestsPerSecond;
        let rate = 0;
        for (let i = 0; i < 24 && rate <= 60; i++) {
          rate = Math.max(rate, await readRate());
          if (rate <= 60) await sleep(250);
        }
        const metrics: Current = { current: { requestsPerSecond: rate } };
        await load;
        // Reopened after its rotation: the daemon writes on into a fresh file under the old name.
        expect((await readFile(controllerLog, 'utf8')).split('\n').some((l) => l.includes('"name":"autoserve"'))).toBe(true);
        const { files } = await bytesUnder(dirs.stateDir, isLog);
        recordFigures('log-cap', { largestLogsMiB: largest / MiB, capMiB: 1, rpsRead: metrics.current.requestsPerSecond, rotatedCopies: files.filter((f) => f.endsWith('.1')).length });
        expect(files.some((f) => f.endsWith('access-web.log.1'))).toBe(true);
        expect(files.some((f) => f.endsWith('autoserve-controller.log.1')), 'the controller log rotates too').toBe(true);
        // The rotator looks every 2 s: the logs grow past the cap by at most that much writing.
        expect(largest).toBeLessThan(1.5 * MiB);
        expect(metrics.current.requestsPerSecond, 'read on after the rotations').toBeGreaterThan(60);
      } finally {
        clearInterval(sampler);
      }
    });
  });
});
