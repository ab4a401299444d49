// GET /apps/{name}/logs against a real container: demultiplexed, marked with the replica name.
import pino from 'pino';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/docker-runtime.js';
import { demultiplex, logLinesOf, MAX_LOG_LINE_CHARS } from '../../../src/runtime/docker/logs.js';
import { replicaLabels } from '../../../src/core/labels.js';
import { createDockerTestEnv } from '../../support/docker-test-env.js';
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

  it('cuts a line longer than MAX_LOG_LINE_CHARS, saying how much', () => {
    const long = 'x'.repeat(MAX_LOG_LINE_CHARS + 100);
    const [line] = logLinesOf('r0', frame(1, `2024-05-01T10:00:00Z ${long}\n`));
    expect(line!.line).toBe(`${'x'.repeat(MAX_LOG_LINE_CHARS)}… (100 more characters cut)`);
  });

  it('joins a line split across frames and reads the timestamp', () => {
    const buf = Buffer.concat([frame(1, '2024-05-01T10:00:00.000000001Z hel'), frame(1, 'lo\n')]);
    expect(logLinesOf('r0', buf)).toEqual([{ replica: 'r0', stream: 'stdout', time: '2024-05-01T10:00:00.000000001Z', line: 'hello' }]);
  });
});

describe('GET /apps/{name}/logs (real container)', () => {
  let f: ApiFixture;
  let talker: StartedTestContainer | undefined;
  const env = createDockerTestEnv('api-logs');
  const instance = `logs-${process.pid}`;

  beforeAll(async () => {
    f = await startApiFixture({ instance, runtime: new DockerRuntime({ logger: pino({ level: 'silent' }), docker: env.docker }) });
    // A replica of ours as the runtime would list it (our labels), started by the test itself.
    talker = await new GenericContainer('autoserve-demo:v1')
      .withName(`autoserve-${instance}-talker-0000000000-0`)
      .withEntrypoint(['/bin/busybox', 'sh', '-c', 'echo hello-out; echo hello-err >&2; exec /bin/busybox httpd -f -p 8080 -h /www'])
      .withLabels({ ...env.labels, ...replicaLabels({ instance, app: 'talker', revision: '0000000000', slot: 0 }) })
      .withWaitStrategy(Wait.forLogMessage('hello-err'))
      .start();
  });
  afterAll(async () => {
    await talker?.stop();
    await env.cleanup(); // also after a failed start
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

