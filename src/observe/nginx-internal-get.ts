// GET of one of our nginx's internal locations (/_autoserve/...) on its default server, over a
// fresh loopback connection so a kept-alive old worker cannot answer.
import http from 'node:http';
import { INTERNAL_HOST } from '../manifest/reserved-hosts.js';

/** The body of a 200 answer, or undefined when nginx does not answer or answers otherwise. */
export function getInternal(listen: { host: string; port: number }, path: string, timeoutMs = 2_000): Promise<string | undefined> {
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host;
  return new Promise((resolve) => {
    const req = http.request(
      // A Host no app may have (validation reserves it), so the default server answers.
      { host, port: listen.port, path, agent: false, timeout: timeoutMs, headers: { host: INTERNAL_HOST } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
