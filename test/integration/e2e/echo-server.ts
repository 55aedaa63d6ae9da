/**
 * Test app (not a test): a plain Node HTTP server with no knowledge of the
 * mesh. It answers every request with what it saw: the peer address of the
 * connection, the request line and the headers. Prints "ready" once listening.
 * Usage: node echo-server.js NAME PORT
 */
import { createServer } from 'node:http';

const [name = 'echo', port = '8080'] = process.argv.slice(2);
const server = createServer((req, res) => {
  const body = JSON.stringify({ name, peer: req.socket.remoteAddress, method: req.method, url: req.url, headers: req.headers });
  res.writeHead(200, { 'content-type': 'application/json', 'x-echo-server': name }).end(body);
});
server.listen(Number(port), '0.0.0.0', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
