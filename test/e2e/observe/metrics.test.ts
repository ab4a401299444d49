// Metrics end to end: a real node-echo replica limited to half a core, its CPU and memory read from
// cgroup files and from the Docker stats API; our own nginx in front of it, its JSON access log
// turned into rps, p95, concurrency and error rate.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NginxProcess } from '../../../src/controllers/routes/nginx-process.js';
import { AccessLogMetrics, fetchNginxStatus } from '../../../src/observe/index-metrics.js';
import { ContainerMetricsSampler } from '../../../src/runtime/docker/container-metrics.js';
import type { ReplicaUsage } from '../../../src/runtime/runtime.js';
import { createDockerTestEnv } from '../../support/docker-test-env.js';
import { eventually } from '../../support/eventually.js';
import { freePort } from '../../support/free-port.js';
import { httpGet } from '../../support/http-get.js';
import { runLoad } from '../../support/load-generator.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const env = createDockerTestEnv('observe-metrics');
const docker = env.docker;
const IMAGE = 'autoserve-node-echo:v1';
const CPU_LIMIT_NANO = 0.5e9;
const MEMORY_LIMIT = 256 * 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


describe('metrics of a real replica', () => {
  let id: string;
  let hostPort: number;

  beforeAll(async () => {
    const container = await docker.createContainer({
      Image: IMAGE,
      Labels: env.labels,
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: {
        PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
        NanoCpus: CPU_LIMIT_NANO,
        Memory: MEMORY_LIMIT,
        Init: true,
      },
    });
    id = container.id;
    await container.start();
    const info = await container.inspect();
    hostPort = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
    await eventually(async () => expect((await httpGet(hostPort, 'x', '/healthz', 1_000)).status).toBe(200), { timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await env.cleanup();
  });

  describe('container CPU and memory', () => {
    const busy = { on: false };
    const busyLoops: Promise<void>[] = [];
    const startBusy = () => {
      busy.on = true;
      // Two sequential loops of 500 ms busy requests: node works on one at a time, so the
      // container always has work; its 0.5-core limit is what caps it.
      for (let i = 0; i < 2; i++) {
        busyLoops.push(
          (async () => {
            while (busy.on) await httpGet(hostPort, 'x', '/work?ms=500', 10_000).catch(() => sleep(100));
          })(),
        );
      }
    };
    const stopBusy = async () => {
      busy.on = false;
      await Promise.all(busyLoops.splice(0));
    };
    afterAll(stopBusy);

    it('reads near 100 % of the 0.5-core limit under a busy loop and near 0 idle, from cgroup files; the API agrees', async () => {
      const cgroup = new ContainerMetricsSampler({ docker, logger, source: 'cgroup' });
      const api = new ContainerMetricsSampler({ docker, logger, source: 'api' });
      const refs = [{ id }];
      try {
        expect(cgroup.cgroupLayout()).toBeDefined();
        startBusy();
        await sleep(1_000);
        const first = await cgroup.sample(refs);
        expect(first.get(id)).toMatchObject({ cpu: null, source: 'cgroup' });
        const apiFirst = api.sample(refs); // ~1 s call, runs beside the cgroup interval
        await sleep(3_000);
        const apiBusy = (await apiFirst).get(id);
        const busySample = (await cgroup.sample(refs)).get(id) as ReplicaUsage;
        // Saturated: the whole 0.5-core limit unless the host cannot give it (steal, a busy neighbour).
        expect(busySample.cpu).toBeGreaterThan(0.5);
        expect(busySample.cpu).toBeLessThan(1.2);
        expect(busySample.memory).toBeGreaterThan(0);
        expect(busySample.memory).toBeLessThan(1);
        expect(busySample.memoryBytes).toBeGreaterThan(1024 * 1024);
        expect(apiBusy?.source).toBe('api');
        expect(Math.abs((apiBusy?.cpu ?? NaN) - busySample.cpu!)).toBeLessThan(0.3);
        // memory: both are usage minus inactive file cache
        expect(Math.abs((apiBusy?.memoryBytes ?? NaN) - busySample.memoryBytes)).toBeLessThan(16 * 1024 * 1024);

        await stopBusy();
        await sleep(1_000);
        await cgroup.sample(refs);
        await sleep(2_000);
        const idle = (await cgroup.sample(refs)).get(id) as ReplicaUsage;
        expect(idle.cpu).toBeLessThan(0.1);
        expect(idle.cpu).toBeGreaterThanOrEqual(0);
      } finally {
        cgroup.close();
        api.close();
      }
    });

    it('auto mode reads this host through cgroup files', async () => {
      const auto = new ContainerMetricsSampler({ docker, logger });
      try {
        expect((await auto.sample([{ id }])).get(id)?.source).toBe('cgroup');
      } finally {
        auto.close();
      }
    });
  });

  describe('nginx access log', () => {
    let prefix: string;
    let listenPort: number;
    let nginx: NginxProcess;
    let metrics: AccessLogMetrics;

    beforeAll(async () => {
      prefix = await mkdtemp(path.join(os.tmpdir(), 'autoserve-metrics-nginx-'));
      listenPort = await freePort();
      nginx = new NginxProcess({ prefixDir: prefix, listen: { host: '127.0.0.1', port: listenPort }, logger, nginxBin: '/usr/sbin/nginx', workerProcesses: 1 });
      await nginx.apply({
        routes: [
          { app: 'echo', host: 'echo.localhost', pathPrefix: '/', servers: [{ host: '127.0.0.1', port: hostPort }] },
          { app: 'down', host: 'down.localhost', pathPrefix: '/', servers: [] },
        ],
      });
      metrics = new AccessLogMetrics({ logsDir: nginx.logsDir, logger, pollIntervalMs: 250 });
      await metrics.start();
    });

    afterAll(async () => {
      try {
        await metrics?.stop();
        await nginx?.stop();
      } finally {
        if (prefix) await rm(prefix, { recursive: true, force: true });
      }
    });

    it('reports ~30 rps, a plausible p95 and concurrency, no errors, for a 30 rps load of 5 s', async () => {
      const loadStart = Date.now();
      const result = await runLoad({ port: listenPort, hostHeader: 'echo.localhost', path: '/work?ms=10', ratePerSec: 30, durationMs: 5_000 });
      expect(result.failed).toBe(0);
      // until the last second of the load has ended, left nginx's log buffer and been read
      await eventually(async () => {
        await metrics.poll();
        expect(metrics.requests('echo', 15)).toBe(result.sent);
      }, { timeoutMs: 5_000, intervalMs: 250 });
      const series = metrics.series('echo', 'rps', loadStart);
      const busySeconds = series.slice(1, -1).filter((p) => p.t >= loadStart && p.t + 1000 <= loadStart + 5_000);
      expect(busySeconds.length).toBeGreaterThanOrEqual(3);
      // 30 rps sent: the mean of the busy seconds is 30 within 10 %; a single second may gain or
      // lose a few requests that end across its boundary on a busy host.
      const mean = busySeconds.reduce((sum, p) => sum + (p.value ?? 0), 0) / busySeconds.length;
      expect(mean).toBeGreaterThanOrEqual(27);
      expect(mean).toBeLessThanOrEqual(33);
      for (const p of busySeconds) {
        expect(p.value).toBeGreaterThanOrEqual(18);
        expect(p.value).toBeLessThanOrEqual(42);
      }
      const p95 = metrics.p95Ms('echo', 15);
      expect(p95).toBeGreaterThanOrEqual(9); // each request busy-loops 10 ms
      expect(p95).toBeLessThan(1_000);
      expect(metrics.errorRate('echo', 15)).toBe(0);
      // Little: 30 rps x ~10-20 ms ~ 0.3-0.6 in flight while the load ran (5 of these 15 s)
      const concurrency = metrics.concurrency('echo', 15) * 3;
      expect(concurrency).toBeGreaterThan(0.2);
      expect(concurrency).toBeLessThan(3);

      // a controller restart: a fresh reader backfills the same window from the file
      const restarted = new AccessLogMetrics({ logsDir: nginx.logsDir, logger });
      await restarted.start();
      expect(restarted.requests('echo', 15)).toBe(result.sent);
      await restarted.stop();
    });

    it('nginx buffers access-log lines, and yet a second the reader reports never changes later', async () => {
      const loadStart = Date.now();
      const snapshots: { t: number; value: number | null }[][] = [];
      const load = runLoad({ port: listenPort, hostHeader: 'echo.localhost', path: '/', ratePerSec: 40, durationMs: 4_000 });
      let loading = true;
      void load.finally(() => (loading = false));
      while (loading) {
        await metrics.poll();
        snapshots.push(metrics.series('echo', 'rps', loadStart));
        await sleep(200);
      }
      expect((await load).failed).toBe(0);
      await sleep(3_000); // every buffer flushed, every line read
      await metrics.poll();
      const final = new Map(metrics.series('echo', 'rps', loadStart).map((p) => [p.t, p.value]));
      const reported = snapshots.flat();
      expect(reported.filter((p) => (p.value ?? 0) > 0).length).toBeGreaterThan(5); // the load was seen while it ran
      for (const point of reported) expect({ t: point.t, value: point.value }).toEqual({ t: point.t, value: final.get(point.t) });
    });

    it('counts nginx-answered 503s of an app without replicas as errors, without latency', async () => {
      for (let i = 0; i < 5; i++) expect((await httpGet(listenPort, 'down.localhost', '/')).status).toBe(503);
      await eventually(
        async () => {
          await metrics.poll();
          expect(metrics.requests('down', 10)).toBe(5);
        },
        { timeoutMs: 5_000, intervalMs: 200 },
      );
      expect(metrics.errorRate('down', 10)).toBe(1);
      expect(metrics.p95Ms('down', 10)).toBeNull();
    });

    it('reads global connection counts from stub_status', async () => {
      const status = await fetchNginxStatus({ socketPath: nginx.controlSocket });
      expect(status?.active).toBeGreaterThanOrEqual(1);
      expect(status?.writing).toBeGreaterThanOrEqual(1); // this request
      expect(status?.requests).toBeGreaterThanOrEqual(150);
    });
  });
});
