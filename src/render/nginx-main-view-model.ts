// View model of the own master's main nginx.conf: paths under the prefix, worker settings.
import path from 'node:path';
import { UnsafeNginxValueError, assertNonNegativeInteger } from './nginx-quote.js';
import { absoluteSafePath, SERVER_NAMES_HASH_BUCKET_SIZE } from './nginx-view-model.js';

export interface MainViewOptions {
  prefixDir: string;
  logsDir: string;
  pidFile: string;
  /** Path of the apps conf that the main conf includes. */
  appsConfPath: string;
  /** Default 'auto' (one worker per core). */
  workerProcesses?: number | 'auto';
  /** Printed as `user U G;`. Only meaningful when the master runs as root; see workerUserFor(). */
  workerUser?: { user: string; group: string };
  workerConnections?: number;
  /** Load the Lua module (lua membership mode): the directory holding ndk_http_module.so and ngx_http_lua_module.so. */
  luaModulesDir?: string;
}

export const DEFAULT_WORKER_CONNECTIONS = 4096;

export interface MainViewModel {
  workerUser?: { user: string; group: string };
  workerProcesses: string;
  workerConnections: number;
  pidFile: string;
  errorLog: string;
  tempDirs: { clientBody: string; proxy: string; fastcgi: string; uwsgi: string; scgi: string };
  serverNamesHashBucketSize: number;
  appsConfPath: string;
  /** Absolute module paths; present in lua membership mode only. */
  luaModules?: { ndk: string; lua: string };
}

export const LUA_MODULE_FILES = { ndk: 'ndk_http_module.so', lua: 'ngx_http_lua_module.so' } as const;
export const DEFAULT_NGINX_MODULES_DIR = '/usr/lib/nginx/modules';

export function buildMainViewModel(opts: MainViewOptions): MainViewModel {
  const prefix = absoluteSafePath(opts.prefixDir);
  const workers = opts.workerProcesses ?? 'auto';
  if (workers !== 'auto' && (assertNonNegativeInteger(workers) === 0)) {
    throw new UnsafeNginxValueError('worker_processes', workers, 'must be auto or >= 1');
  }
  const temp = (name: string) => path.join(prefix, 'temp', name);
  return {
    ...(opts.workerUser ? { workerUser: opts.workerUser } : {}),
    workerProcesses: String(workers),
    workerConnections: opts.workerConnections ?? DEFAULT_WORKER_CONNECTIONS,
    pidFile: absoluteSafePath(opts.pidFile),
    errorLog: absoluteSafePath(path.join(opts.logsDir, 'error.log')),
    tempDirs: {
      clientBody: temp('client_body'),
      proxy: temp('proxy'),
      fastcgi: temp('fastcgi'),
      uwsgi: temp('uwsgi'),
      scgi: temp('scgi'),
    },
    serverNamesHashBucketSize: SERVER_NAMES_HASH_BUCKET_SIZE,
    appsConfPath: absoluteSafePath(opts.appsConfPath),
    ...(opts.luaModulesDir !== undefined
      ? {
          luaModules: {
            ndk: absoluteSafePath(path.join(opts.luaModulesDir, LUA_MODULE_FILES.ndk)),
            lua: absoluteSafePath(path.join(opts.luaModulesDir, LUA_MODULE_FILES.lua)),
          },
        }
      : {}),
  };
}

/**
 * The worker user for a master started by this process. Running as root, nginx would drop workers
 * to its compiled-in `nobody` user with a group of the same name, which Debian lacks; name both.
 * Workers need no write access to logs (the master opens them) but must traverse the prefix to
 * reach temp/, which the master creates and chowns to them. Not root: no `user` line (nginx would
 * only warn that it is ignored).
 */
export function workerUserFor(uid: number | undefined): { user: string; group: string } | undefined {
  return uid === 0 ? { user: 'nobody', group: 'nogroup' } : undefined;
}
