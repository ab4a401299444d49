// A real nginx standing in for the system one: a master of the test's own whose main config
// includes conf.d/*.conf at http level, like Debian's. The test stops it with `stop()`.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const NGINX = '/usr/sbin/nginx';

export interface SystemLikeNginx {
  dir: string;
  confDir: string;
  pidFile: string;
  mainConf: string;
  /** Quits the master and removes its directory. */
  stop(): Promise<void>;
}

/** Starts the master; `httpLines` go into its http block before the include. */
export async function startSystemLikeNginx(prefix: string, httpLines: string[] = []): Promise<SystemLikeNginx> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const confDir = path.join(dir, 'conf.d');
  const pidFile = path.join(dir, 'nginx.pid');
  const mainConf = path.join(dir, 'nginx.conf');
  await mkdir(confDir);
  await mkdir(path.join(dir, 'temp'));
  const temp = (n: string) => `${n}_temp_path ${path.join(dir, 'temp', n)};`;
  await writeFile(mainConf, [
    `pid ${pidFile};`,
    `error_log ${path.join(dir, 'error.log')};`,
    'worker_processes 1;',
    'events {}',
    'http {',
    ...httpLines.map((l) => `  ${l}`),
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp),
    `  include ${confDir}/*.conf;`,
    '}',
  ].join('\n'));
  await execa(NGINX, ['-c', mainConf, '-p', `${dir}/`, '-e', 'stderr'], { stdout: 'ignore' });
  return {
    dir,
    confDir,
    pidFile,
    mainConf,
    async stop() {
      try {
        await execa(NGINX, ['-c', mainConf, '-e', 'stderr', '-s', 'quit'], { reject: false });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
