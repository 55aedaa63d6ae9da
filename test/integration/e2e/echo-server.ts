/**
 * Test app (not a test): a plain Node HTTP server with no knowledge of the
 * mesh. It answers every request with what it saw: the peer address of the
 * connection, the request line and the headers. Prints "ready" once listening.
 * For the policy tests: /status/NNN answers NNN, /delay/MS/… answers after MS
 * milliseconds, and the first request carrying `x-fail-once: KEY` for a key
 * gets a 503 (the next one succeeds).
 * With CERT and KEY files it serves HTTPS instead (an external TLS service).
 * Websocket upgrades get an RFC 6455 echo (test/helpers/websocket.ts serveEcho).
 * Usage: node echo-server.js NAME PORT [CERT KEY]
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { serveEcho } from '../../helpers/websocket.js';

const [name = 'echo', port = '8080', cert, key] = process.argv.slice(2);
const failed = new Set<string>();
const handler = (req: IncomingMessage, res: ServerResponse) => {
  const body = JSON.stringify({ name, peer: req.socket.remoteAddress, method: req.method, url: req.url, headers: req.headers });
  const reply = (status: number) => res.writeHead(status, { 'content-type': 'application/json', 'x-echo-server': name }).end(body);
  const once = req.headers['x-fail-once'];
  if (typeof once === 'string' && !failed.has(once)) {
    failed.add(once);
    return reply(503);
  }
  const status = /^\/status\/(\d{3})/.exec(req.url ?? '');
  if (status) return reply(Number(status[1]));
  const delay = /^\/delay\/(\d+)/.exec(req.url ?? '');
  if (delay) {
    const t = setTimeout(() => reply(200), Math.min(Number(delay[1]), 10_000));
    res.on('close', () => clearTimeout(t));
    return;
  }
  reply(200);
};
const server = cert && key ? createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, handler) : createServer(handler);
server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => serveEcho(req, socket, head, name));
server.listen(Number(port), '0.0.0.0', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
