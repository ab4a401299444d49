// SystemNginx against a real nginx standing in for the system one: a master of the test's own
// whose main config includes conf.d/*.conf at http level, like Debian's.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRoute } from '../../../src/core/routes.js';
import { SystemNginx } from '../../../src/controllers/routes/system-nginx.js';
import { freePort } from '../../support/free-port.js';

const NGINX = '/usr/sbin/nginx';

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('SystemNginx (include mode, real nginx)', () => {
  let dir: string;
  let mainConf: string;
  let confDir: string;
  let pidFile: string;
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
    dir = await mkdtemp(path.join(os.tmpdir(), 'autoserve-sysnginx-e2e-'));
    confDir = path.join(dir, 'conf.d');
    pidFile = path.join(dir, 'nginx.pid');
    mainConf = path.join(dir, 'nginx.conf');
    await mkdir(confDir);
    await mkdir(path.join(dir, 'temp'));
    const temp = (n: string) => `${n}_temp_path ${path.join(dir, 'temp', n)};`;
    await writeFile(
      mainConf,
      [
        `pid ${pidFile};`,
        `error_log ${path.join(dir, 'error.log')};`,
        'worker_processes 1;',
        'events {}',
        'http {',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp),
        `  include ${confDir}/*.conf;`,
        '}',
      ].join('\n'),
    );
    await execa(NGINX, ['-c', mainConf, '-p', `${dir}/`, '-e', 'stderr'], { stdout: 'ignore' });
    listenPort = await freePort();
    upstream = http.createServer((_req, res) => res.end('system-upstream'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    lb = new SystemNginx({
      confDir,
      mainConf,
      pidFile,
      nginxBin: NGINX,
      listen: { host: '127.0.0.1', port: listenPort },
      logsDir: path.join(dir, 'logs'),
      stateDir: dir,
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    try {
      await execa(NGINX, ['-c', mainConf, '-e', 'stderr', '-s', 'quit'], { reject: false });
    } finally {
      await new Promise((resolve) => upstream?.close(resolve));
      if (dir) await rm(dir, { recursive: true, force: true });
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

  it('stop removes our routes from the system nginx', async () => {
    await lb.stop();
    await expect(readFile(path.join(confDir, 'autoserve.conf'))).rejects.toThrow();
  });
});
