// Which nginx serves the routes: our own master under the state directory (the default), or a
// system nginx whose conf.d directory we write into.
import type { Logger } from 'pino';
import type { LoadBalancer } from './load-balancer.js';
import { nginxLogsDir, nginxPrefixDir } from './nginx-paths.js';
import { NginxProcess } from './nginx-process.js';
import { SystemNginx } from './system-nginx.js';

export interface LoadBalancerOptions {
  stateDir: string;
  listen: { host: string; port: number };
  /** Manage a system nginx through this conf.d directory instead of running our own master. */
  systemConfDir?: string;
  /** Our own master's worker processes (default: one per core but one). */
  workerProcesses?: number;
}

export function createLoadBalancer(options: LoadBalancerOptions, logger: Logger): LoadBalancer & { ensureRunning?: () => Promise<unknown> } {
  const { stateDir, listen, systemConfDir, workerProcesses } = options;
  if (systemConfDir) {
    return new SystemNginx({ confDir: systemConfDir, listen, logsDir: nginxLogsDir(stateDir, systemConfDir), stateDir, logger });
  }
  return new NginxProcess({ prefixDir: nginxPrefixDir(stateDir), listen, logger, ...(workerProcesses !== undefined ? { workerProcesses } : {}) });
}
