/**
 * Test app (not a test): an issuer's JWKS endpoint. Serves the JSON file it
 * is given at /jwks.json (read on every request, so a test can rotate keys),
 * 404 elsewhere; prints "ready" once listening and one "GET PATH" line per
 * request. Usage: node jwks-server.js PORT FILE
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port = '8443', file = 'jwks.json'] = process.argv.slice(2);
createServer((req, res) => {
  console.log(`GET ${req.url}`);
  if (req.url !== '/jwks.json') return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(file));
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
