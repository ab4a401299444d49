// A slow or greedy client cannot hold the endpoint (issue 11, item 12), and a write body is held to
// the manifest limits.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
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
