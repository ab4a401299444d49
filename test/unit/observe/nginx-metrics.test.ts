import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLogMetrics } from '../../../src/observe/nginx-metrics.js';

const logger = pino({ level: 'silent' });
const T0 = 1_700_000_000_000; // ms, a whole second

function logLine(app: string, timeMs: number, status = 200, upstreamSeconds: string = '0.050'): string {
  return `${JSON.stringify({
    time: timeMs / 1000,
    app,
    host: `${app}.localhost`,
    method: 'GET',
    uri: '/',
    status,
    request_time: 0.051,
    upstream_addr: upstreamSeconds ? '127.0.0.1:1' : '',
    upstream_status: upstreamSeconds ? String(status) : '',
    upstream_response_time: upstreamSeconds,
    bytes_sent: 100,
    connection: 1,
    connection_requests: 1,
  })}\n`;
}

describe('AccessLogMetrics', () => {
  let dir: string;
  let now: number;
  let metrics: AccessLogMetrics;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'autoserve-alm-'));
    now = T0;
    // flushMs 0: lines are in the file when nginx logs them (the buffered case has its own test).
    metrics = new AccessLogMetrics({ logsDir: dir, logger, now: () => now, pollIntervalMs: 250, flushMs: 0 });
  });
  afterEach(async () => {
    await metrics.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('backfills existing logs at start, then follows appends, per app; the default log is ignored', async () => {
    let text = '';
    for (let s = 0; s < 10; s++) for (let i = 0; i < 30; i++) text += logLine('web', T0 + s * 1000 + i * 30, i === 0 ? 500 : 200);
    await writeFile(path.join(dir, 'access-web.log'), text);
    await writeFile(path.join(dir, 'access.log'), logLine('', T0));
    now = T0 + 10_300; // seconds T0 .. T0+9 are complete
    await metrics.start();
    expect(metrics.appNames()).toEqual(['web']);
    expect(metrics.rps('web', 10)).toBe(30);
    expect(metrics.errorRate('web', 10)).toBeCloseTo(1 / 30, 9);
    expect(metrics.p95Ms('web', 10)).toBeCloseTo(50, -0.5);
    expect(metrics.concurrency('web', 10)).toBeCloseTo(1.5, 9); // 30 rps x 50 ms

    await appendFile(path.join(dir, 'access-web.log'), logLine('web', T0 + 10_500, 200, '0.200'));
    now = T0 + 11_300;
    await metrics.poll();
    expect(metrics.series('web', 'rps', T0 + 9_000)).toEqual([
      { t: T0 + 9_000, value: 30 },
      { t: T0 + 10_000, value: 1 },
    ]);
    expect(metrics.rps('nobody')).toBe(0);
    expect(metrics.p95Ms('nobody')).toBeNull();
    expect(metrics.series('nobody', 'rps', 0)).toEqual([]);
  });

  it('counts a second only once it ended at least a poll interval ago', async () => {
    await metrics.start();
    await writeFile(path.join(dir, 'access-api.log'), logLine('api', T0 + 100) + logLine('api', T0 + 1_100));
    now = T0 + 1_200;
    await metrics.poll();
    expect(metrics.requests('api', 60)).toBe(0); // second T0 ended 200 ms ago: a poll may still bring lines of it
    now = T0 + 1_300;
    expect(metrics.requests('api', 60)).toBe(1);
    now = T0 + 2_300;
    expect(metrics.requests('api', 60)).toBe(2);
  });

  it('with nginx buffering lines (flush=1s, the default), counts a second only once the flush and a poll interval have passed', async () => {
    await metrics.stop();
    metrics = new AccessLogMetrics({ logsDir: dir, logger, now: () => now, pollIntervalMs: 250 });
    await metrics.start();
    // A line of second T0 may reach the file as late as T0 + 1.999 s; at T0 + 2.2 s a poll may still bring one.
    await writeFile(path.join(dir, 'access-api.log'), logLine('api', T0 + 100));
    now = T0 + 2_200;
    await metrics.poll();
    expect(metrics.requests('api', 60)).toBe(0);
    now = T0 + 2_300;
    expect(metrics.requests('api', 60)).toBe(1);
  });

  it('picks up a log that appears after start and reads it whole; drops the window when the log goes away', async () => {
    await metrics.start();
    expect(metrics.appNames()).toEqual([]);
    await writeFile(path.join(dir, 'access-late.log'), logLine('late', T0) + logLine('late', T0 + 10));
    now = T0 + 2_000;
    await metrics.poll();
    expect(metrics.requests('late', 5)).toBe(2);
    const bytes = metrics.byteLength();
    expect(bytes).toBeGreaterThan(0);
    await rm(path.join(dir, 'access-late.log'));
    await metrics.poll();
    expect(metrics.appNames()).toEqual([]);
    expect(metrics.requests('late', 5)).toBe(0);
    expect(metrics.byteLength()).toBe(0);
  });

  it('counts malformed lines without failing, and keeps partial lines for the next poll', async () => {
    await metrics.start();
    const file = path.join(dir, 'access-web.log');
    const full = logLine('web', T0);
    await writeFile(file, `not json\n${full.slice(0, 25)}`);
    now = T0 + 2_000;
    await metrics.poll();
    expect(metrics.requests('web', 5)).toBe(0);
    await appendFile(file, full.slice(25));
    await metrics.poll();
    expect(metrics.requests('web', 5)).toBe(1);
    expect(metrics.malformedLines()).toBe(1);
  });

  it('polls on its own timer once started', async () => {
    metrics = new AccessLogMetrics({ logsDir: dir, logger, now: () => now, pollIntervalMs: 20, flushMs: 0 });
    await metrics.start();
    await writeFile(path.join(dir, 'access-web.log'), logLine('web', T0));
    now = T0 + 2_000;
    const deadline = Date.now() + 2_000;
    while (metrics.requests('web', 5) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(metrics.requests('web', 5)).toBe(1);
  });
});
