/**
 * Malformed HTTP/1.1 requests a hostile peer might send, with what a sidecar
 * must answer: a 4xx with the connection closed, never a crash or a hang.
 * Shared by the proxy's integration test (loopback) and the end-to-end test
 * (sent as uid 1337 from another pod straight to a server-side sidecar).
 */
import net from 'node:net';

export interface MalformedCase {
  name: string;
  /** The bytes, sent in one write, or pieces sent a few ms apart. */
  send: Buffer | Buffer[];
  /** Status the proxy answers before closing. */
  status: number;
  /** The bad bytes come after a valid head: an app that answers without reading the body may have answered (200) first. */
  appMayAnswerFirst?: true;
  /** Syntactically legal, refused by a limit (Envoy's and ours): a parser without the limit may accept it and wait for more. */
  limit?: true;
}

/** Deterministic pseudo-random bytes (xorshift), so a failure replays. */
export function noise(n: number, seed = 0x2545f491): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

const post = (path: string, host: string, extra: string) => Buffer.from(`POST ${path} HTTP/1.1\r\nhost: ${host}\r\n${extra}`, 'latin1');
const chunked = (path: string, host: string, body: string) => post(path, host, `transfer-encoding: chunked\r\n\r\n${body}`);

/** The table; `host` is the Host header (the route's domain), `path` a path that routes to a live backend. */
export function malformedRequests(host: string, path: string): MalformedCase[] {
  return [
    { name: 'chunk size that is not hex', send: chunked(path, host, '4\r\nabcd\r\nzz\r\n'), status: 400 },
    { name: 'chunk data without its CRLF', send: chunked(path, host, '4\r\nabcdXY'), status: 400 },
    { name: 'chunk extension of 5 KB', send: chunked(path, host, `4;${'x'.repeat(5000)}\r\nabcd\r\n0\r\n\r\n`), status: 400, limit: true },
    { name: 'chunk size of 13 hex digits', send: chunked(path, host, '1000000000000\r\n'), status: 400, limit: true },
    { name: 'chunk size without LF', send: chunked(path, host, '4\rabcd'), status: 400 },
    { name: 'bad chunk after the body began streaming', send: [chunked(path, host, '4\r\nabcd\r\n'), Buffer.from('-1\r\n')], status: 400, appMayAnswerFirst: true },
    { name: 'bare LF line ends', send: Buffer.from(`GET ${path} HTTP/1.1\nhost: ${host}\n\n`), status: 400 },
    { name: 'bare CR inside the head', send: Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${host}\rx: y\r\n\r\n`), status: 400 },
    { name: '16 KB of random bytes', send: noise(16 * 1024), status: 400 },
    { name: 'a NUL in a header value', send: Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nx: a\0b\r\n\r\n`), status: 400 },
    { name: 'content-length and transfer-encoding', send: post(path, host, 'content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n'), status: 400 },
    { name: 'two different content-lengths', send: post(path, host, 'content-length: 4\r\ncontent-length: 5\r\n\r\nabcde'), status: 400 },
    { name: 'negative content-length', send: post(path, host, 'content-length: -1\r\n\r\n'), status: 400 },
    { name: 'obsolete line folding', send: Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nx: a\r\n b\r\n\r\n`), status: 400 },
    { name: 'space before the colon', send: Buffer.from(`GET ${path} HTTP/1.1\r\nhost : ${host}\r\n\r\n`), status: 400 },
    { name: 'HTTP/1.1 without host', send: Buffer.from(`GET ${path} HTTP/1.1\r\n\r\n`), status: 400 },
    { name: 'HTTP/2.0 in an HTTP/1 request line', send: Buffer.from(`GET ${path} HTTP/2.0\r\nhost: ${host}\r\n\r\n`), status: 505 },
    { name: 'a 70 KB header', send: Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nx: ${'a'.repeat(70 * 1024)}\r\n\r\n`), status: 431, limit: true },
    { name: '101 headers', send: Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\n${Array.from({ length: 101 }, (_, i) => `x${i}: v\r\n`).join('')}\r\n`), status: 431, limit: true },
    { name: 'a control character in the method', send: Buffer.from(`G\x01T ${path} HTTP/1.1\r\nhost: ${host}\r\n\r\n`), status: 400 },
    { name: 'a space in the request target', send: Buffer.from(`GET /a b HTTP/1.1\r\nhost: ${host}\r\n\r\n`), status: 400 },
  ];
}

export interface RawReply {
  /** What came back, latin1. */
  data: string;
  /** The peer closed the connection (within the time allowed). */
  closed: boolean;
}

/** Writes `send` on a new connection, then reads until the peer closes or `timeoutMs` passes. */
export function sendRaw(host: string, port: number, send: Buffer | Buffer[], timeoutMs = 3000): Promise<RawReply> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let data = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', async () => {
      for (const piece of Array.isArray(send) ? send : [send]) {
        if (s.destroyed) return;
        s.write(piece);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}

/** The status code of the first response in a raw reply, or 0. */
export function statusOf(reply: RawReply): number {
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(reply.data);
  return m ? Number(m[1]) : 0;
}
