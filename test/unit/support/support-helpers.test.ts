import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { freePort } from '../../support/free-port.js';
import {
  TEST_LABEL,
  cleanupContainers,
  cleanupStale,
  createDockerTestEnv,
  dockerAvailable,
} from '../../support/docker-test-env.js';


describe('freePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
    expect(port).toBeGreaterThan(0);
  });
});

describe('eventually', () => {
  it('retries until the assertion passes and returns its value', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
        return 'done';
      },
      { intervalMs: 10, timeoutMs: 1000 },
    );
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('throws the last error after the timeout', async () => {
    let calls = 0;
    const started = Date.now();
    await expect(
      eventually(
        () => {
          calls++;
          throw new Error(`attempt ${calls} failed`);
        },
        { intervalMs: 20, timeoutMs: 150, message: 'thing ready' },
      ),
    ).rejects.toThrow(/^thing ready: not true after 150 ms .*attempt \d+ failed/);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('abandons an attempt that hangs past the deadline', async () => {
    await expect(eventually(() => new Promise(() => {}), { timeoutMs: 100 })).rejects.toThrow(/still running/);
  });
});

describe('createDockerTestEnv', () => {
  it('makes a unique label per call', () => {
    const a = createDockerTestEnv('web rollout');
    const b = createDockerTestEnv('web rollout');
    expect(a.value).not.toBe(b.value);
    expect(a.label).toBe(`${TEST_LABEL}=${a.value}`);
    expect(a.labels).toEqual({ [TEST_LABEL]: a.value });
    expect(a.value).toMatch(/^web-rollout-\d+-[0-9a-f]{8}$/);
  });
});

describe('cleanupContainers (real Docker)', () => {
  it('force-removes exactly the containers with the label, running or not', async () => {
    const env = createDockerTestEnv('cleanup');
    const other = createDockerTestEnv('cleanup-other');
    try {
      const running = await env.docker.createContainer({
        Image: 'autoserve-demo:v1',
        Labels: env.labels,
        HostConfig: { Init: true, NetworkMode: 'none' },
      });
      await running.start();
      await env.docker.createContainer({ Image: 'autoserve-demo:v1', Labels: env.labels });
      await env.docker.createContainer({ Image: 'autoserve-demo:v1', Labels: other.labels });

      await cleanupStale(); // only containers older than an hour: ours survive
      expect(await env.docker.listContainers({ all: true, filters: { label: [env.label] } })).toHaveLength(2);
      expect(await env.cleanup()).toBe(2);
      expect(await env.docker.listContainers({ all: true, filters: { label: [env.label] } })).toEqual([]);
      expect(await env.docker.listContainers({ all: true, filters: { label: [other.label] } })).toHaveLength(1);
      expect(await cleanupContainers(env.label)).toBe(0);
    } finally {
      await env.cleanup();
      await other.cleanup();
    }
  });
});
