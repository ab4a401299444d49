// GET /apps/{name}/logs against a real container: demultiplexed, marked with the replica name.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { demultiplex, logLinesOf } from '../../../src/runtime/docker/logs.js';
import { LABEL_APP, LABEL_INSTANCE, LABEL_MANAGED, LABEL_REVISION, LABEL_SLOT } from '../../../src/core/labels.js';
import { createDockerTestEnv, type DockerTestEnv } from '../../support/docker-test-env.js';
import { eventually } from '../../support/eventually.js';
import { startApiFixture, type ApiFixture } from './api-fixture.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('demultiplexing', () => {
  it('splits frames by stream and drops a truncated tail', () => {
    const buf = Buffer.concat([frame(1, 'a\n'), frame(2, 'b\n'), frame(1, 'c\n').subarray(0, 9)]);
    expect(demultiplex(buf).map((f) => [f.stream, f.payload.toString()])).toEqual([['stdout', 'a\n'], ['stderr', 'b\n']]);
  });

  it('joins a line split across frames and reads the timestamp', () => {
    const buf = Buffer.concat([frame(1, '2024-05-01T10:00:00.000000001Z hel'), frame(1, 'lo\n')]);
    expect(logLinesOf('r0', buf)).toEqual([{ replica: 'r0', stream: 'stdout', time: '2024-05-01T10:00:00.000000001Z', line: 'hello' }]);
  });
});

describe('GET /apps/{name}/logs (real container)', () => {
  let f: ApiFixture;
  let env: DockerTestEnv;
  const instance = `logs-${process.pid}`;

  beforeAll(async () => {
    env = createDockerTestEnv('api-logs');
    f = await startApiFixture({ instance, runtime: new DockerRuntime({ logger: pino({ level: 'silent' }), docker: env.docker }) });
    const container = await env.docker.createContainer({
      name: `autoserve-${instance}-talker-0000000000-0`,
      Image: 'autoserve-demo:v1',
      Entrypoint: ['/bin/busybox', 'sh', '-c', 'echo hello-out; echo hello-err >&2; exec /bin/busybox httpd -f -p 8080 -h /www'],
      Labels: {
        ...env.labels,
        [LABEL_MANAGED]: 'true',
        [LABEL_INSTANCE]: instance,
        [LABEL_APP]: 'talker',
        [LABEL_REVISION]: '0000000000',
        [LABEL_SLOT]: '0',
      },
      HostConfig: { AutoRemove: false },
    });
    await container.start();
  });
  afterAll(async () => {
    await env?.cleanup();
    await f?.close();
  });

  it('returns both streams, each line marked with its replica, even for an app the store does not know yet', async () => {
    const r = await eventually(async () => {
      const res = await f.request('/apps/talker/logs?tail=10');
      expect(res.status).toBe(200);
      expect(res.body.lines).toHaveLength(2);
      return res;
    }, { timeoutMs: 20_000 });
    expect(r.body.replicas).toEqual([`autoserve-${instance}-talker-0000000000-0`]);
    const byStream = Object.fromEntries(r.body.lines.map((l: { stream: string; line: string }) => [l.stream, l.line]));
    expect(byStream).toEqual({ stdout: 'hello-out', stderr: 'hello-err' });
    for (const line of r.body.lines) {
      expect(line.replica).toBe(`autoserve-${instance}-talker-0000000000-0`);
      expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }
  });

  it('tail=1 gives the newest line; since in the future gives none', async () => {
    const one = await f.request('/apps/talker/logs?tail=1');
    expect(one.body.lines).toHaveLength(1);
    const none = await f.request(`/apps/talker/logs?since=${(Date.now() / 1000 + 3600).toFixed(0)}`);
    expect(none.status).toBe(200);
    expect(none.body.lines).toEqual([]);
  });
});

