/** Response bodies of test servers: large ones with back-pressure, never-ending trickles. */
import type { ServerResponse } from 'node:http';

/** Answers with `size` bytes of "a" in 16 KiB writes, honouring back-pressure (a slow reader stalls the writer). */
export function writeBigBody(res: ServerResponse, size: number): void {
  res.writeHead(200, { 'content-length': size });
  let left = size;
  const push = (): void => {
    while (left > 0) {
      const n = Math.min(16384, left);
      left -= n;
      if (!res.write(Buffer.alloc(n, 97))) {
        res.once('drain', push);
        return;
      }
    }
    res.end();
  };
  push();
}

/** A 200 that sends "first", then "more" every 10 ms until the connection closes: a body that never ends. */
export function writeTrickle(res: ServerResponse): void {
  res.writeHead(200);
  res.write('first');
  const t = setInterval(() => res.write('more'), 10);
  res.on('close', () => clearInterval(t));
}
