// A slow or greedy client cannot hold the endpoint (issue 11, item 12), a write body is held to
// the manifest limits, and none of it cuts the dashboard's live stream (/watch).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { readEvents } from '../../support/read-events.js';
import { startApiFixture } from './api-fixture.js';

/** Opens a raw connection; resolves when the server closes it (or after `ms`, with 'open'). */
function closedWithin(port: number, send: string, ms: number): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(send));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('open');
    }, ms);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

describe('HTTP endpoint limits', () => {
  it('closes a client that never finishes its headers', async () => {
    const f = await startApiFixture({ httpLimits: { headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 100 } });
    try {
      const port = Number(new URL(f.base).port);
      expect(await closedWithin(port, 'GET /apps HTTP/1.1\r\nHost: x\r\nX-Slow: ', 3_000)).toBe('closed');
      expect((await f.request('/healthz')).status).toBe(200); // others are served meanwhile
    } finally {
      await f.close();
    }
  });

  it('closes connections past the cap as they arrive', async () => {
    const f = await startApiFixture({ httpLimits: { maxConnections: 2 } });
    const held: net.Socket[] = [];
    try {
      const port = Number(new URL(f.base).port);
      for (let i = 0; i < 2; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        held.push(s);
        await new Promise((r) => s.once('connect', r));
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(await closedWithin(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 2_000)).toBe('closed');
    } finally {
      for (const s of held) s.destroy();
      await f.close();
    }
  });

  it('a /watch stream outlives the header, request and keep-alive timeouts, and still reports changes', async () => {
    const f = await startApiFixture({ httpLimits: { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 200, checkIntervalMs: 100 } });
    try {
      const reading = readEvents(`${f.base}/watch`, 2);
      await new Promise((r) => setTimeout(r, 1_500)); // past every timeout, checked 15 times
      f.store.addEvent({ app: 'web', type: 'Normal', reason: 'Probe', message: 'late' });
      const { events } = await reading; // an ended stream resolves with "hello" alone
      expect(events).toEqual([expect.stringMatching(/^hello /), expect.stringMatching(/^change /)]);
    } finally {
      await f.close();
    }
  });

  it('refuses /watch streams past their cap (503) and serves everything else meanwhile', async () => {
    const f = await startApiFixture({ httpLimits: { maxWatchStreams: 2 } });
    const open = [readEvents(`${f.base}/watch`, 99), readEvents(`${f.base}/watch`, 99)];
    try {
      await new Promise((r) => setTimeout(r, 200));
      const third = await f.request('/watch');
      expect(third.status).toBe(503);
      expect(third.body.error).toBe('TooManyWatchers');
      expect((await f.request('/apps')).status).toBe(200);
    } finally {
      await f.close(); // ends the open streams
    }
    for (const stream of await Promise.all(open)) expect(stream.events).toEqual([expect.stringMatching(/^hello /)]);
  });

  it('refuses a YAML body that is an alias bomb, quickly, naming the limit', async () => {
    const f = await startApiFixture({ authToken: 't', enableWriteApi: true });
    try {
      const lines = ['a0: &a0 [x, x, x, x]'];
      for (let i = 1; i <= 12; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
      const started = Date.now();
      const r = await f.request('/apps/register', {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/yaml' },
        body: `${lines.join('\n')}\napiVersion: v1\nkind: App\nmetadata: {name: bomb}\nspec: {x: *a12}\n`,
      });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/expands to more than/);
    } finally {
      await f.close();
    }
  });
});
