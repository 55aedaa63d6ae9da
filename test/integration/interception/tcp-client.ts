/**
 * Test helper process (not a test): connects to HOST PORT, prints the one
 * line the server answers, or {"error": CODE}. Stands in for an unmodified
 * application. Without arguments it exits at once.
 */
import { connect } from 'node:net';

function main(argv: string[]): void {
  const [host, port] = argv;
  if (!host || !port) return;
  let data = '';
  const s = connect({ host, port: Number(port) });
  s.setTimeout(3000, () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  s.setEncoding('utf8').on('data', (d: string) => (data += d));
  s.on('end', () => process.stdout.write(data.trim() + '\n'));
  s.on('error', (err: NodeJS.ErrnoException) => process.stdout.write(JSON.stringify({ error: err.code ?? err.message }) + '\n'));
}

main(process.argv.slice(2));
