/**
 * A raw HTTP/2 client for hostile-peer tests: writes hand-built frames
 * (test/fuzz/h2-frames.ts) on a plain TCP connection and reads what the
 * server sends back frame by frame, so a test can send what node:http2's
 * client never would (resets in a loop, endless CONTINUATION, a zero window)
 * and see the GOAWAY, RST_STREAM and HEADERS frames it gets.
 */
import net from 'node:net';
import { frame, headerBlock, PREFACE } from '../fuzz/h2-frames.js';

export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
/** RFC 9113 §7 error codes used here. */
export const ErrorCode = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;

export interface Frame { type: number; flags: number; stream: number; payload: Buffer }

export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const p = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, v], i) => { p.writeUInt16BE(id, i * 6); p.writeUInt32BE(v >>> 0, i * 6 + 2); });
  return frame(FrameType.SETTINGS, 0, 0, p);
}

export function rstFrame(stream: number, code: number = ErrorCode.CANCEL): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, stream, p);
}

export function windowUpdateFrame(stream: number, increment: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(increment);
  return frame(FrameType.WINDOW_UPDATE, 0, stream, p);
}

export function pingFrame(n: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(n >>> 0, 4);
  return frame(FrameType.PING, 0, 0, p);
}

/** A request's HEADERS frame (END_HEADERS; END_STREAM unless a body follows). */
export function requestHeaders(stream: number, path: string, o: { method?: string; endStream?: boolean; extra?: ReadonlyArray<readonly [string, string]> } = {}): Buffer {
  const end = o.endStream ?? true;
  const fields: Array<readonly [string, string]> = [[':method', o.method ?? 'GET'], [':scheme', 'http'], [':path', path], [':authority', 'hostile'], ...(o.extra ?? [])];
  return frame(FrameType.HEADERS, Flag.END_HEADERS | (end ? Flag.END_STREAM : 0), stream, headerBlock(fields));
}

export { frame, headerBlock, PREFACE };

/** One raw HTTP/2 connection: the client preface and SETTINGS are sent on connect. */
export class RawH2 {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  /** Bytes the server sent (its frames' headers and payloads). */
  received = 0;
  closed = false;
  readonly #ready: Promise<void>;
  readonly #whenClosed: Promise<void>;
  #buf: Buffer = Buffer.alloc(0);
  /** Keep the payloads of DATA frames (off by default: a flood test only counts). */
  keepData = false;

  constructor(port: number, settings: ReadonlyArray<readonly [number, number]> = []) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.#ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.socket.write(Buffer.concat([PREFACE, settingsFrame(settings)]));
        resolve();
      });
      this.socket.once('close', () => reject(new Error('closed before connecting')));
    });
    this.#ready.catch(() => undefined);
    this.#whenClosed = new Promise((resolve) => this.socket.once('close', () => { this.closed = true; resolve(); }));
    this.socket.on('data', (c: Buffer) => this.#onData(c));
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  #onData(c: Buffer): void {
    this.received += c.length;
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, c]) : c;
    while (this.#buf.length >= 9) {
      const len = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + len) break;
      const type = this.#buf[3]!;
      const f: Frame = { type, flags: this.#buf[4]!, stream: this.#buf.readUInt32BE(5) & 0x7fffffff, payload: type === FrameType.DATA && !this.keepData ? Buffer.alloc(0) : Buffer.from(this.#buf.subarray(9, 9 + len)) };
      this.frames.push(f);
      // The server's SETTINGS is acknowledged, as any client must.
      if (type === FrameType.SETTINGS && !(f.flags & Flag.ACK) && !this.socket.destroyed) this.socket.write(frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0)));
      this.#buf = this.#buf.subarray(9 + len);
    }
  }

  /** Writes bytes; resolves when the kernel took them (or the socket is gone). */
  write(b: Buffer): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.socket.write(b)) resolve();
      else {
        const done = () => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
        this.socket.once('drain', done);
        this.socket.once('close', done);
      }
    });
  }

  /** The GOAWAY the server sent, if any: its last stream id and error code. */
  goaway(): { lastStream: number; code: number } | undefined {
    const g = this.frames.find((f) => f.type === FrameType.GOAWAY);
    return g ? { lastStream: g.payload.readUInt32BE(0) & 0x7fffffff, code: g.payload.readUInt32BE(4) } : undefined;
  }

  count(type: number): number {
    return this.frames.filter((f) => f.type === type).length;
  }

  /** Resolves true when the server closed the connection within `ms`, false otherwise. */
  async closedWithin(ms: number): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => { t = setTimeout(() => r(false), ms); });
    const r = await Promise.race([this.#whenClosed.then(() => true as const), timeout]);
    clearTimeout(t);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
