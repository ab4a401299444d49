// Where AutoServe's nginx lives under the state directory: shared by the daemon, `stop-lb` and tests.
import { join } from 'node:path';

/** The prefix (-p) of our own nginx master: conf/, logs/, the pid file. */
export function nginxPrefixDir(stateDir: string): string {
  return join(stateDir, 'nginx');
}

/**
 * The logs directory is the controller's alone: nginx's master (root) opens the logs and its
 * workers write through what they inherit, so no one else, the workers' group included, needs it.
 */
export const NGINX_LOGS_DIR_MODE = 0o700;

/** Where nginx writes the per-app JSON access logs the autoscaler reads. */
export function nginxLogsDir(stateDir: string, systemConfDir?: string): string {
  return systemConfDir ? join(stateDir, 'nginx-logs') : join(nginxPrefixDir(stateDir), 'logs');
}
