/**
 * Test app (not a test): a steady HTTP load from inside a pod — RATE requests
 * per second for SECONDS to URL over keep-alive connections. Prints one JSON
 * line: ok, failed, statuses.
 * Usage: node load-client.js URL RATE SECONDS
 */
import http from 'node:http';

const [url = '', rate = '200', seconds = '30'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const statuses: Record<string, number> = {};
let ok = 0;
let failed = 0;
let sent = 0;
const total = Number(rate) * Number(seconds);

function one(): Promise<void> {
  sent++;
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => {
        statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
        if (res.statusCode === 200) ok++;
        else failed++;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      failed++;
      statuses.error = (statuses.error ?? 0) + 1;
      resolve();
    });
  });
}

const inFlight = new Set<Promise<void>>();
const interval = 1000 / Number(rate);
const start = Date.now();
for (let i = 0; i < total; i++) {
  const due = start + i * interval;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const p = one();
  inFlight.add(p);
  void p.then(() => inFlight.delete(p));
}
await Promise.all(inFlight);
process.stdout.write(`${JSON.stringify({ ok, failed, statuses, sent, seconds: (Date.now() - start) / 1000 })}\n`);
agent.destroy();
