/**
 * Test app (not a test): one kept-alive HTTP/1.1 connection to HOST PORT,
 * a GET on it every INTERVAL ms until stdin ends, to show that a connection
 * (a tunnel through the node proxy) opened before certificate renewals
 * outlives them. Prints "ready" after the first answer, then at the end one
 * JSON line: ok, failed, sockets (distinct local ports: a cut connection
 * would be replaced by the agent, so anything but 1 means it did not hold).
 * Usage: node held-connection.js HOST PORT INTERVAL_MS
 */
import { Agent, get } from 'node:http';

const [host = '', port = '0', interval = '200'] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const ports = new Set<number>();
let ok = 0;
let failed = 0;
let stopped = false;

function one(): Promise<void> {
  return new Promise((resolve) => {
    const req = get({ host, port: Number(port), path: '/', agent, timeout: 3000 }, (res) => {
      ports.add(res.socket.localPort ?? 0);
      res.resume().on('end', () => ((res.statusCode === 200 ? ok++ : failed++), resolve()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => (failed++, resolve()));
  });
}

process.stdin.resume().on('end', () => (stopped = true));
await one();
process.stdout.write('ready\n');
while (!stopped) {
  await new Promise((r) => setTimeout(r, Number(interval)));
  await one();
}
agent.destroy();
process.stdout.write(`${JSON.stringify({ ok, failed, sockets: ports.size })}\n`);
