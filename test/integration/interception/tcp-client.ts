/**
 * Test helper process (not a test): connects to HOST PORT, prints the one
 * line the server answers, or {"error": CODE}. Stands in for an unmodified
 * application. With --udp, sends one datagram and prints the answer; with
 * --from IP, connects from that local address (a pod's, where pods share a
 * namespace).
 * Without arguments it exits at once.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

function udp(host: string, port: number): void {
  const sock = createSocket('udp4');
  const timer = setTimeout(() => {
    process.stdout.write(JSON.stringify({ error: 'ETIMEDOUT' }) + '\n');
    sock.close();
  }, 3000);
  sock.on('message', (msg) => {
    clearTimeout(timer);
    process.stdout.write(msg.toString('utf8').trim() + '\n');
    sock.close();
  });
  sock.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    process.stdout.write(JSON.stringify({ error: err.code ?? err.message }) + '\n');
    sock.close();
  });
  sock.send('query', port, host);
}

function main(argv: string[]): void {
  const [host, port, flag, from] = argv;
  if (!host || !port) return;
  if (flag === '--udp') return udp(host, Number(port));
  let data = '';
  const s = connect({ host, port: Number(port), ...(flag === '--from' && from ? { localAddress: from } : {}) });
  s.setTimeout(3000, () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  s.setEncoding('utf8').on('data', (d: string) => (data += d));
  s.on('end', () => process.stdout.write(data.trim() + '\n'));
  s.on('error', (err: NodeJS.ErrnoException) => process.stdout.write(JSON.stringify({ error: err.code ?? err.message }) + '\n'));
}

main(process.argv.slice(2));
