// Reads a server-sent event stream (GET /watch) in tests.
import http from 'node:http';

/** Reads an event stream until `count` events arrived (bounded by the test timeout). */
export function readEvents(url: string, count: number, headers: Record<string, string> = {}): Promise<{ status: number; events: string[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve({ status: res.statusCode ?? 0, events: [] });
        return;
      }
      let buffer = '';
      const events: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.+)$/m.exec(block)?.[1];
          if (name) events.push(`${name} ${/^data: (.+)$/m.exec(block)?.[1] ?? ''}`);
        }
        if (events.length >= count) {
          req.destroy();
          resolve({ status: 200, events });
        }
      });
      res.on('end', () => resolve({ status: 200, events }));
    });
    req.on('error', reject);
  });
}
