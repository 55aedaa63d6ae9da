/**
 * A small RFC 6455 implementation for tests, on raw sockets: the opening
 * handshake (client and server side, Sec-WebSocket-Accept checked), frames
 * (masked from the client, unmasked from the server; text, binary, close,
 * ping), and a frame reader that accepts any split of the bytes. Enough to
 * drive a real websocket exchange through the proxy without a library.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const OP = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface Frame {
  opcode: number;
  payload: Buffer;
}

/** One frame, FIN set; masked (as a client must) when `mask`. */
export function encodeFrame(opcode: number, payload: Buffer | string, mask: boolean): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = data.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, data]);
  const key = randomBytes(4);
  key.copy(head, 2 + ext);
  const masked = Buffer.from(data);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i % 4]!;
  return Buffer.concat([head, masked]);
}

export function closeFrame(code: number, mask: boolean): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(code);
  return encodeFrame(OP.close, p, mask);
}

/** Parses frames from bytes fed in any split. */
export class FrameReader {
  #buf = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    const out: Frame[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return out;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return out;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return out;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const keyAt = off;
      if (masked) off += 4;
      if (b.length < off + len) return out;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= b[keyAt + (i % 4)]!;
      out.push({ opcode: b[0]! & 0x0f, payload });
      this.#buf = b.subarray(off + len);
    }
  }
}

/** The client side of one websocket connection: frames in arrival order, and the socket's end/close. */
export class WsClient {
  readonly socket: Socket;
  readonly #reader = new FrameReader();
  readonly #frames: Frame[] = [];
  #waiters: Array<() => void> = [];
  ended = false;
  closed = false;

  constructor(socket: Socket, rest: Buffer) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => this.#push(c));
    socket.on('end', () => { this.ended = true; this.#wake(); });
    socket.on('close', () => { this.closed = true; this.#wake(); });
    if (rest.length > 0) this.#push(rest);
  }

  #push(c: Buffer): void {
    this.#frames.push(...this.#reader.push(c));
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  send(opcode: number, payload: Buffer | string): void {
    this.socket.write(encodeFrame(opcode, payload, true));
  }

  /** The next frame; rejects after `ms` or when the connection ended first. */
  async next(ms = 3000): Promise<Frame> {
    const deadline = Date.now() + ms;
    while (this.#frames.length === 0) {
      if (this.ended || this.closed) throw new Error('connection ended before a frame');
      if (Date.now() >= deadline) throw new Error('no frame in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.#frames.shift()!;
  }

  /** Waits for the socket to close (bounded). */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }
}

export interface Handshake {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The status line and headers as received. */
  head: string;
  /** Bytes after the head (a non-101 body, or the first frames). */
  rest: Buffer;
  socket: Socket;
  key: string;
}

/** Sends an opening handshake (`upgrade` other than "websocket" for refused-type tests) and reads the response head. */
export function handshake(host: string, port: number, path: string, o: { hostHeader?: string; upgrade?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Handshake> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('handshake timed out')); }, o.timeoutMs ?? 5000);
    let buf = Buffer.alloc(0);
    const extra = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${o.hostHeader ?? `${host}:${port}`}\r\nConnection: Upgrade\r\nUpgrade: ${o.upgrade ?? 'websocket'}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n${extra}\r\n`));
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      const head = buf.subarray(0, end).toString('latin1');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, head, rest: buf.subarray(end + 4), socket, key });
    };
    socket.on('data', onData);
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** A websocket client after a checked 101 (the accept key must be the one RFC 6455 derives from ours). */
export async function connectWebSocket(host: string, port: number, path: string, o: { hostHeader?: string } = {}): Promise<{ ws: WsClient; handshake: Handshake }> {
  const h = await handshake(host, port, path, o);
  if (h.status !== 101) {
    h.socket.destroy();
    throw new Error(`expected 101, got ${h.status}: ${h.head}`);
  }
  if (h.headers['sec-websocket-accept'] !== acceptKey(h.key)) throw new Error(`bad Sec-WebSocket-Accept: ${h.head}`);
  const ws = new WsClient(h.socket, h.rest);
  h.socket.resume();
  return { ws, handshake: h };
}

/**
 * The server side, for a node:http server's 'upgrade' event: answers 101 with
 * the accept key, then echoes text and binary frames ("echo:" + text), answers
 * a close with a close, and closes from its side when it receives the text
 * "bye" (a close frame with 1000, then the TCP connection).
 */
export function serveEcho(req: IncomingMessage, socket: Socket, head: Buffer, name: string): void {
  const key = req.headers['sec-websocket-key'];
  if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    return;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nx-ws-server: ${name}\r\n\r\n`);
  const reader = new FrameReader();
  const onFrames = (frames: Frame[]) => {
    for (const f of frames) {
      if (f.opcode === OP.close) {
        socket.end(encodeFrame(OP.close, f.payload, false));
        return;
      }
      if (f.opcode === OP.ping) socket.write(encodeFrame(OP.pong, f.payload, false));
      else if (f.opcode === OP.text && f.payload.toString() === 'bye') {
        socket.end(closeFrame(1000, false));
        return;
      } else if (f.opcode === OP.text) socket.write(encodeFrame(OP.text, `echo:${f.payload.toString()}`, false));
      else if (f.opcode === OP.binary) socket.write(encodeFrame(OP.binary, f.payload, false));
    }
  };
  socket.on('error', () => undefined);
  socket.on('data', (c: Buffer) => onFrames(reader.push(c)));
  if (head.length > 0) onFrames(reader.push(head));
}
