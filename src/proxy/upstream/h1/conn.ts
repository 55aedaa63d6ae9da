/**
 * One upstream HTTP/1.1 connection of the proxy's client: writes a request (head
 * and a small body in one buffer; a streamed body with back-pressure), parses
 * the response from the socket's bytes and feeds its exchange. One request at
 * a time; the pool reuses the connection when the response allowed it.
 */
import type { Socket } from 'node:net';
import { BodyDecoder, chunkHeader, LAST_CHUNK } from '../../codec/h1/body.js';
import { headEnd, HeadError, MAX_HEAD_BYTES, parseResponseHead, type HeaderMap } from '../../codec/h1/head.js';
import { upstreamReset } from '../errors.js';
import type { ExchangeConn, H1Exchange } from './exchange.js';

/** The pool side of a connection (upstream-pool.ts). */
export interface ConnOwner {
  /** The exchange is over; `reusable` when the connection can carry another request. */
  released(conn: UpstreamConn, reusable: boolean): void;
  /** Sends the exchange again on another connection (a kept-alive one the server had closed); false if it will not. */
  retry(ex: H1Exchange): boolean;
}

const BAD_VALUE = /[\r\n\0]/;
const COALESCE_LIMIT = 16 * 1024;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const noop = (): void => undefined;


/** The request head; `bodyLength` is the exact length, or -1 for a chunked body, or undefined for none. */
export function requestHead(method: string, path: string, headers: HeaderMap, bodyLength: number | undefined): string {
  let s = `${method} ${path} HTTP/1.1\r\n`;
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || k === 'content-length' || k === 'transfer-encoding' || k === 'connection') continue;
    if (typeof v === 'string') {
      if (BAD_VALUE.test(v)) throw new HeadError(`invalid value of header ${k}`);
      s += `${k}: ${v}\r\n`;
    } else {
      for (const x of v) {
        if (BAD_VALUE.test(x)) throw new HeadError(`invalid value of header ${k}`);
        s += `${k}: ${x}\r\n`;
      }
    }
  }
  // Only upgrade requests carry Upgrade here (the router drops it as hop-by-hop otherwise): it needs its Connection token.
  if (headers.upgrade !== undefined) s += 'connection: upgrade\r\n';
  if (bodyLength === -1) s += 'transfer-encoding: chunked\r\n';
  else if (bodyLength !== undefined) s += `content-length: ${bodyLength}\r\n`;
  return `${s}\r\n`;
}

export class UpstreamConn implements ExchangeConn {
  readonly socket: Socket;
  readonly #owner: ConnOwner;
  #ex: H1Exchange | undefined;
  #buf: Buffer | undefined;
  #decoder: BodyDecoder | undefined;
  #keepAlive = true;
  #requestSent = false;
  #closed = false;
  /** The connection carried a request before (a failure without response bytes may be retried elsewhere). */
  used = false;

  constructor(socket: Socket, owner: ConnOwner) {
    this.socket = socket;
    this.#owner = owner;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', noop);
    socket.on('close', this.#onClose);
    socket.on('end', this.#onEnd);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends the exchange's request on this (idle) connection. */
  run(ex: H1Exchange): void {
    this.#ex = ex;
    ex.conn = this;
    ex.state = 'pending';
    this.#decoder = undefined;
    this.#keepAlive = true;
    this.#requestSent = false;
    try {
      this.#write(ex);
    } catch (err) {
      this.abort(upstreamReset('cannot send the request', err));
    }
  }

  #write(ex: H1Exchange): void {
    const { method, path, headers, body } = ex.opts;
    const h = headers as HeaderMap;
    const socket = this.socket;
    if (body === undefined) {
      socket.write(requestHead(method, path, h, BODY_METHODS.has(method) ? 0 : undefined), 'latin1');
      this.#requestSent = true;
      return;
    }
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const b = typeof body === 'string' ? Buffer.from(body) : body;
      const head = requestHead(method, path, h, b.length);
      if (b.length > COALESCE_LIMIT) {
        socket.cork();
        socket.write(head, 'latin1');
        socket.write(b);
        socket.uncork();
      } else {
        const hl = Buffer.byteLength(head, 'latin1');
        const out = Buffer.allocUnsafe(hl + b.length);
        out.write(head, 0, 'latin1');
        b.copy(out, hl);
        socket.write(out);
      }
      this.#requestSent = true;
      return;
    }
    const cl = h['content-length'];
    const length = typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : -1;
    socket.write(requestHead(method, path, h, length), 'latin1');
    void this.#stream(ex, body, length === -1);
  }

  /** Streams a request body (the downstream's) with back-pressure from the upstream socket. */
  async #stream(ex: H1Exchange, body: AsyncIterable<Buffer | string>, chunked: boolean): Promise<void> {
    const socket = this.socket;
    try {
      for await (const c of body) {
        if (this.#ex !== ex || this.#closed) return;
        const b = typeof c === 'string' ? Buffer.from(c) : c;
        if (b.length === 0) continue;
        const ok = chunked ? (socket.write(chunkHeader(b.length), 'latin1'), socket.write(b), socket.write('\r\n', 'latin1')) : socket.write(b);
        if (!ok) await new Promise<void>((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
      }
      if (this.#ex !== ex || this.#closed) return;
      if (chunked) socket.write(LAST_CHUNK, 'latin1');
      this.#requestSent = true;
      // The response may have completed first: the connection is released now.
      if (ex.state === 'ended') this.#release();
    } catch (err) {
      if (this.#ex === ex) this.abort(upstreamReset('request body failed', err));
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    const ex = this.#ex;
    if (!ex) {
      // Bytes on an idle connection: the server is confused; do not reuse it.
      this.socket.destroy();
      return;
    }
    ex.received += chunk.length;
    this.#buf = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    try {
      while (this.#ex === ex && this.#buf && this.#step(ex, this.#buf));
    } catch (err) {
      this.abort(upstreamReset('invalid upstream response', err));
    }
  };

  /** One unit of progress; false when more bytes are needed. */
  #step(ex: H1Exchange, buf: Buffer): boolean {
    const dec = this.#decoder;
    if (dec) {
      const n = dec.push(buf, 0, buf.length, (c) => ex.data(c));
      this.#buf = n < buf.length ? buf.subarray(n) : undefined;
      if (dec.done) this.#complete(ex);
      return false;
    }
    const end = headEnd(buf, 0);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) throw new HeadError('response head too large');
      return false;
    }
    const head = parseResponseHead(buf, 0, end);
    this.#buf = end < buf.length ? buf.subarray(end) : undefined;
    if (head.status < 200) {
      if (head.status === 101 && ex.opts.headers.upgrade !== undefined) return this.#switched(ex, head.headers);
      return this.#buf !== undefined; // 1xx: the real response follows
    }
    const bodyless = ex.opts.method === 'HEAD' || head.status === 204 || head.status === 304;
    const dec2 = new BodyDecoder(bodyless ? { kind: 'none' } : head.framing);
    this.#decoder = dec2;
    this.#keepAlive = head.keepAlive && !dec2.closeDelimited;
    ex.head(head.status, head.headers);
    if (dec2.done) {
      this.#complete(ex);
      return false;
    }
    return this.#buf !== undefined;
  }

  /**
   * The upgrade was accepted: the socket leaves HTTP and goes with the exchange. It stays
   * counted in the pool (Envoy counts an upgraded connection as busy) until it closes, and is never idle again.
   */
  #switched(ex: H1Exchange, headers: HeaderMap): false {
    const rest = this.#buf;
    this.#buf = undefined;
    this.#ex = undefined;
    this.socket.off('data', this.#onData);
    this.socket.off('end', this.#onEnd);
    ex.switched(headers, this.socket, rest);
    return false;
  }

  #complete(ex: H1Exchange): void {
    if (this.#buf) this.#keepAlive = false; // bytes after the response: nothing may be pipelined here
    ex.complete();
    if (this.#requestSent || !this.#keepAlive) this.#release();
  }

  #release(): void {
    const reusable = this.#keepAlive && !this.#closed;
    this.#ex = undefined;
    this.#buf = undefined;
    this.used = true;
    if (!reusable) this.socket.destroy();
    // The last exchange may have left the socket paused (back-pressure on its final chunk).
    else this.socket.resume();
    this.#owner.released(this, reusable);
  }

  /**
   * The server closed a kept-alive connection: it leaves the pool now, as Envoy's codec closes on a remote
   * close, not when the next request finds it. Through a tunnel (HBONE) no reset would come back for that request.
   */
  readonly #onEnd = (): void => {
    if (!this.#ex) this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    const ex = this.#ex;
    if (!ex) return this.#owner.released(this, false);
    this.#ex = undefined;
    this.#owner.released(this, false);
    if (this.#decoder?.closeDelimited && ex.state === 'body') ex.complete();
    // A reused connection that closes before any response byte was most likely closed by the server while idle.
    else if (!(this.used && ex.received === 0 && ex.state === 'pending' && this.#owner.retry(ex))) ex.fail(upstreamReset('upstream connection closed'));
  };

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  abort(err: Error): void {
    const ex = this.#ex;
    this.#ex = undefined;
    this.#closed = true;
    this.socket.destroy();
    ex?.fail(err);
    this.#owner.released(this, false);
  }
}
