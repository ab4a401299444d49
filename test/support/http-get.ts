// A GET with an explicit Host header (fetch() does not let a test pick the nginx server block).
import http from 'node:http';

export interface GetResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** GET http://ADDRESS:PORT/PATH with `Host: host` (address: loopback unless a test node's or a task's). */
export function httpGet(port: number, host: string, path = '/', timeoutMs = 5_000, address = '127.0.0.1'): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address, port, path, headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path} timed out`)));
    req.on('error', reject);
  });
}
