// GET of one of our nginx's internal locations (/_autoserve/...) on its control listener, over a
// fresh connection so a kept-alive old worker cannot answer.
import http from 'node:http';
import type { ControlListener } from '../core/routes.js';

/** The body of a 200 answer, or undefined when nginx does not answer or answers otherwise. */
export function getInternal(control: ControlListener, path: string, timeoutMs = 2_000): Promise<string | undefined> {
  const target = 'socketPath' in control ? { socketPath: control.socketPath } : { host: control.host, port: control.port };
  return new Promise((resolve) => {
    const req = http.request({ ...target, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
