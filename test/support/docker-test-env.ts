// Labels that tie Docker containers to one test file, and their cleanup.
//
// Every container an end-to-end test creates (directly or through AutoServe) carries
// `autoserve.test=<value unique to this test file>`, and so does every network AutoServe creates
// for it; afterAll (or a finally) calls cleanup(), which force-removes exactly those containers, then
// those networks. cleanupStale() removes leftovers of crashed runs older than an hour.
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
  /** Force-removes every container with this test's label, then its networks; returns how many containers were removed. */
  cleanup(): Promise<number>;
}

export function createDockerTestEnv(name = 'test', docker: Docker = new Docker()): DockerTestEnv {
  const value = `${name.replace(/[^a-zA-Z0-9_.-]/g, '-')}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const label = `${TEST_LABEL}=${value}`;
  return {
    docker,
    value,
    label,
    labels: { [TEST_LABEL]: value },
    cleanup: async () => {
      const removed = await cleanupContainers(label, docker);
      await cleanupNetworks(label, docker);
      return removed;
    },
  };
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

/** Removes every network matching `label` that no container uses (one still in use is left). */
export async function cleanupNetworks(label: string, docker: Docker = new Docker(), createdBeforeMs = Infinity): Promise<number> {
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  let removed = 0;
  for (const network of networks.filter((n) => Date.parse(n.Created) < createdBeforeMs)) {
    try {
      await docker.getNetwork(network.Id).remove();
      removed++;
    } catch (err) {
      // 404: already gone; 403/409: still has endpoints (a container of another cleanup in flight).
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 403 && status !== 409) throw err;
    }
  }
  return removed;
}

/** Removes containers, then networks, labeled autoserve.test (any value) created more than `maxAgeMs` ago. */
export async function cleanupStale(maxAgeMs = STALE_AFTER_MS, docker: Docker = new Docker()): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: { label: [TEST_LABEL] } });
  const cutoffS = (Date.now() - maxAgeMs) / 1000;
  const stale = containers.filter((c) => c.Created < cutoffS);
  const removed = await Promise.all(stale.map((c) => removeContainer(docker, c.Id)));
  await cleanupNetworks(TEST_LABEL, docker, Date.now() - maxAgeMs);
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
