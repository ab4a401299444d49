// One HTTP request to the own master's control server over its root-only unix socket, on a fresh
// connection (a kept-alive old worker must not answer). "Not there" (no socket file, nothing
// listening) reads as 404, like a served config without that location: both mean "not yet".
import http from 'node:http';

export interface ControlResponse {
  status: number;
  body: string;
}

export function controlRequest(socketPath: string, method: 'GET' | 'POST', path: string, opts: { body?: string; contentType?: string; timeoutMs: number }): Promise<ControlResponse> {
  const { body, timeoutMs } = opts;
  const headers: Record<string, string | number> = {};
  if (body !== undefined) Object.assign(headers, { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(body) });
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method, agent: false, timeout: timeoutMs, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve({ status: 404, body: '' });
      else reject(err);
    });
    req.end(body);
  });
}
