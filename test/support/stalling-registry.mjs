// A registry that never delivers an image: GET /v2/ answers 200 (so dockerd goes on to pull), every
// other request is held open without an answer until the process ends. For a run on a test node:
// `node stalling-registry.mjs PORT` listens on 127.0.0.1:PORT (loopback registries need no TLS)
// and prints one JSON line per request: { "method", "url" }. Ends on SIGTERM (connections reset).
import http from 'node:http';

const port = Number(process.argv[2]);
const held = new Set();
const server = http.createServer((req, res) => {
  console.log(JSON.stringify({ method: req.method, url: req.url }));
  if (req.url === '/v2/' || req.url === '/v2') {
    res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
    res.end('{}');
    return;
  }
  held.add(res.socket);
});
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ listening: port })));
process.on('SIGTERM', () => {
  for (const socket of held) socket.destroy();
  server.close(() => process.exit(0));
});
