// Labels that tie Docker containers to one test file, and their cleanup.
//
// Every container an end-to-end test creates (directly or through AutoServe) carries
// `autoserve.test=<value unique to this test file>`; afterAll (or a finally) calls cleanup(), which
// force-removes exactly those. cleanupStale() removes leftovers of crashed runs older than an hour.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';

export const TEST_LABEL = 'autoserve.test';
export const STALE_AFTER_MS = 60 * 60 * 1000;

export interface DockerTestEnv {
  docker: Docker;
  /** The value of the autoserve.test label for this test file. */
  value: string;
  /** `autoserve.test=<value>`: a Docker label filter. */
  label: string;
  /** Labels to put on containers this test creates. */
  labels: Record<string, string>;
  /** Force-removes every container with this test's label; returns how many were removed. */
  cleanup(): Promise<number>;
}

export function createDockerTestEnv(name = 'test', docker: Docker = new Docker()): DockerTestEnv {
  const value = `${name.replace(/[^a-zA-Z0-9_.-]/g, '-')}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const label = `${TEST_LABEL}=${value}`;
  return { docker, value, label, labels: { [TEST_LABEL]: value }, cleanup: () => cleanupContainers(label, docker) };
}

/** True when a Docker engine answers on the default socket. */
export async function dockerAvailable(docker: Docker = new Docker()): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * Force-removes (with anonymous volumes) every container, running or not, matching `label`
 * ("key=value" or just "key"). Returns how many were removed.
 */
export async function cleanupContainers(label: string, docker: Docker = new Docker()): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  const removed = await Promise.all(containers.map((c) => removeContainer(docker, c.Id)));
  return removed.filter(Boolean).length;
}

/** Removes containers labeled autoserve.test (any value) created more than `maxAgeMs` ago. */
export async function cleanupStale(maxAgeMs = STALE_AFTER_MS, docker: Docker = new Docker()): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: { label: [TEST_LABEL] } });
  const cutoffS = (Date.now() - maxAgeMs) / 1000;
  const stale = containers.filter((c) => c.Created < cutoffS);
  const removed = await Promise.all(stale.map((c) => removeContainer(docker, c.Id)));
  return removed.filter(Boolean).length;
}

async function removeContainer(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
    return true;
  } catch (err) {
    // 404: already gone (e.g. --rm, or another cleanup won the race). 409: removal in progress.
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 409) return false;
    throw err;
  }
}
