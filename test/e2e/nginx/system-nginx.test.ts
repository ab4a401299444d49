// SystemNginx against a real nginx standing in for the system one: a master of the test's own
// whose main config includes conf.d/*.conf at http level, like Debian's.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRoute } from '../../../src/core/routes.js';
import { fetchServedConfigId } from '../../../src/controllers/routes/config-id-probe.js';
import { SystemNginx } from '../../../src/controllers/routes/system-nginx.js';
import { fetchNginxStatus } from '../../../src/observe/nginx-status.js';
import { freePort } from '../../support/free-port.js';
import { NGINX, startSystemLikeNginx, type SystemLikeNginx } from '../../support/system-like-nginx.js';

function get(port: number, host: string, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('SystemNginx (include mode, real nginx)', () => {
  let system: SystemLikeNginx;
  let confDir: string;
  let listenPort: number;
  let upstream: http.Server;
  let lb: SystemNginx;

  const route = (app: string, over: Partial<AppRoute> = {}): AppRoute => ({
    app,
    host: 'sys.localhost',
    pathPrefix: '/',
    servers: [{ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port }],
    ...over,
  });

  beforeAll(async () => {
    system = await startSystemLikeNginx('autoserve-sysnginx-e2e-');
    ({ confDir } = system);
    listenPort = await freePort();
    upstream = http.createServer((_req, res) => res.end('system-upstream'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    lb = new SystemNginx({
      confDir,
      mainConf: system.mainConf,
      pidFile: system.pidFile,
      nginxBin: NGINX,
      listen: { host: '127.0.0.1', port: listenPort },
      logsDir: path.join(system.dir, 'logs'),
      stateDir: system.dir,
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    try {
      await system?.stop();
    } finally {
      await new Promise((resolve) => upstream?.close(resolve));
    }
  });

  it('writes autoserve.conf, reloads the system nginx and routes through it', async () => {
    expect(await lb.apply({ routes: [route('sys')] })).toMatchObject({ changed: true, reloaded: true, degraded: [] });
    expect(await get(listenPort, 'sys.localhost')).toEqual({ status: 200, body: 'system-upstream' });
    expect(await readFile(path.join(confDir, 'autoserve.conf'), 'utf8')).toContain('upstream as_sys');
    expect(await lb.apply({ routes: [route('sys')] })).toMatchObject({ changed: false, reloaded: false });
  });

  it('a rejected change is narrowed to its app; the live file is the last good one', async () => {
    const result = await lb.apply({ routes: [route('sys'), route('dup'), route('more', { host: 'more.localhost' })] });
    expect(result.degraded.map((d) => d.app)).toEqual(['dup']);
    expect(result.reloaded).toBe(true);
    expect((await get(listenPort, 'more.localhost')).status).toBe(200);
    const live = await readFile(path.join(confDir, 'autoserve.conf'), 'utf8');
    expect(live).not.toContain('as_dup');
    expect(await lb.isAlive()).toBe(true);
  });

  it('serves a host of 253 characters: the apps conf sizes the server_names hash the main config leaves unset', async () => {
    const host = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    const result = await lb.apply({ routes: [route('sys'), route('long', { host })] });
    expect(result.degraded).toEqual([]);
    expect(await get(listenPort, host)).toEqual({ status: 200, body: 'system-upstream' });
  });

  it('serves its checks on a loopback address of its own: apps on any host, reserved ones included, leave reloads confirmed', async () => {
    const squatters = ['autoserve-internal', 'localhost', '127.0.0.1'].map((host, i) => route(`squat${i}`, { host }));
    const started = Date.now();
    const result = await lb.apply({ routes: [route('sys'), ...squatters] });
    expect(result).toMatchObject({ changed: true, reloaded: true, degraded: [] });
    expect(Date.now() - started).toBeLessThan(5_000); // confirmed, not timed out
    expect(lb.control).toEqual({ host: '127.0.0.2', port: listenPort });
    expect(await fetchServedConfigId(lb.control)).toMatch(/^[0-9a-f]{16}$/);
    expect((await fetchNginxStatus(lb.control))?.active).toBeGreaterThanOrEqual(1);
    expect(await lb.isAlive()).toBe(true);
    for (const host of ['anything', 'autoserve-internal', 'localhost', 'sys.localhost']) {
      for (const internal of ['/_autoserve/config-id', '/_autoserve/nginx-status']) {
        expect((await get(listenPort, host, internal)).body).not.toMatch(/Active connections|^[0-9a-f]{16}$/);
      }
    }
    expect(await get(listenPort, 'autoserve-internal')).toEqual({ status: 200, body: 'system-upstream' });
  });

  it('stop removes our routes from the system nginx', async () => {
    await lb.stop();
    await expect(readFile(path.join(confDir, 'autoserve.conf'))).rejects.toThrow();
  });
});

describe('SystemNginx whose main config sets server_names_hash_bucket_size', () => {
  it('refuses only the app whose host the bucket cannot hold, naming the setting', async () => {
    const system = await startSystemLikeNginx('autoserve-sysnginx-bucket-', ['server_names_hash_bucket_size 64;']);
    const { dir, confDir, mainConf } = system;
    const upstream = http.createServer((_req, res) => res.end('bucket-upstream'));
    try {
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const port = await freePort();
      const lb = new SystemNginx({
        confDir, mainConf, pidFile: path.join(dir, 'nginx.pid'), nginxBin: NGINX,
        listen: { host: '127.0.0.1', port }, logsDir: path.join(dir, 'logs'), stateDir: dir, logger: pino({ level: 'silent' }),
      });
      const servers = [{ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port }];
      const result = await lb.apply({ routes: [
        { app: 'short', host: 'short.localhost', pathPrefix: '/', servers },
        { app: 'long', host: `${'a'.repeat(47)}.localhost`, pathPrefix: '/', servers },
      ] });
      expect(result.degraded.map((d) => d.app)).toEqual(['long']);
      expect(result.degraded[0]?.message).toMatch(/server_names_hash_bucket_size holds at most 46/);
      expect(await get(port, 'short.localhost')).toEqual({ status: 200, body: 'bucket-upstream' });
    } finally {
      await system.stop();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
