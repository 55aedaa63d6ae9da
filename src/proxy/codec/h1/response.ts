/**
 * The downstream response of the HTTP/1.1 codec: the subset of node:http's
 * ServerResponse that the router and forwarder use (statusCode, setHeader,
 * writeHead, write, end, destroy, headersSent, writableFinished and the
 * 'close' / 'finish' / 'drain' events), written straight to the socket. The
 * head and the first body piece go out in one write.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { chunkHeader, LAST_CHUNK } from './body.js';

type Value = string | number | readonly string[];
type Event = 'close' | 'finish' | 'drain';

/** What the response needs from its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** The connection is draining: this response ends it ("connection: close"). */
  readonly draining: boolean;
  /** The response is complete (or abandoned); `close` ends the connection after it. */
  responseDone(res: H1Response, close: boolean): void;
  /** The response switched protocols: the connection stops being HTTP; returns the bytes received after the request head. */
  detach(): Buffer | undefined;
}

/** What a response that switched protocols (101) hands over: the raw socket and the client's bytes already read. */
export interface SwitchedConnection {
  socket: Socket;
  rest: Buffer | undefined;
}

const BAD_VALUE = /[\r\n\0]/;
/** Bodies up to this size are copied behind the head into one buffer (one write); larger ones go corked. */
const COALESCE_LIMIT = 16 * 1024;

let dateCache = '';
let dateSecond = -1;
/** The Date header, formatted at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

function headerLines(h: Record<string, Value>): string {
  let s = '';
  for (const k in h) {
    const v = h[k]!;
    if (typeof v === 'object') for (const x of v) s += `${k}: ${x}\r\n`;
    else s += `${k}: ${v}\r\n`;
  }
  return s;
}

export class H1Response {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  /**
   * Set by the codec when the request turned out malformed after its head (a bad chunk): Envoy's
   * response code details for it (http1.codec_error). The stream ends as DPE with the codec's 400, not DC.
   * Declared only: a response that never fails carries no such property (nothing on the hot path).
   */
  declare protocolError: string | undefined;
  readonly #owner: ResponseOwner;
  readonly #isHead: boolean;
  readonly #minor: number;
  #keepAlive: boolean;
  #headers: Record<string, Value> = {};
  #chunked = false;
  #gone = false;
  #close: Array<() => void> | undefined;
  #finish: Array<() => void> | undefined;
  #drain: Array<() => void> | undefined;

  constructor(owner: ResponseOwner, method: string, minor: number, keepAlive: boolean) {
    this.#owner = owner;
    this.#isHead = method === 'HEAD';
    this.#minor = minor;
    this.#keepAlive = keepAlive;
  }

  /** Listeners fire once each ('close' and 'finish' happen once; the forwarder re-arms 'drain' per stall). */
  on(event: Event, fn: () => void): this {
    if (event === 'close') (this.#close ??= []).push(fn);
    else if (event === 'finish') (this.#finish ??= []).push(fn);
    else (this.#drain ??= []).push(fn);
    return this;
  }

  once(event: Event, fn: () => void): this {
    return this.on(event, fn);
  }

  #emit(event: Event): void {
    let l: Array<() => void> | undefined;
    if (event === 'close') [l, this.#close] = [this.#close, undefined];
    else if (event === 'finish') [l, this.#finish] = [this.#finish, undefined];
    else [l, this.#drain] = [this.#drain, undefined];
    if (l) for (const fn of l) fn();
  }

  setHeader(name: string, value: Value): this {
    this.#headers[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string): Value | undefined {
    return this.#headers[name.toLowerCase()];
  }

  removeHeader(name: string): void {
    delete this.#headers[name.toLowerCase()];
  }

  /** Merges like node:http: headers set earlier stay unless named again. Throws on values that would split the head. */
  writeHead(status: number, headers?: Record<string, Value | undefined>): this {
    this.statusCode = status;
    if (headers) {
      for (const k in headers) {
        const v = headers[k];
        if (v !== undefined) this.#headers[k.toLowerCase()] = v;
      }
    }
    for (const k in this.#headers) {
      const v = this.#headers[k]!;
      if (BAD_VALUE.test(k) || (typeof v === 'string' ? BAD_VALUE.test(v) : typeof v !== 'number' && v.some((x) => BAD_VALUE.test(x)))) {
        throw new TypeError(`invalid header ${k}`);
      }
    }
    return this;
  }

  /** Status line and headers, deciding the body framing. `endLength` is the whole body when end() comes first. */
  #head(endLength: number | undefined): string {
    const status = this.statusCode;
    const h = this.#headers;
    const bodyless = this.#isHead || status === 204 || status === 304 || status < 200;
    if (h['content-length'] === undefined && h['transfer-encoding'] === undefined && !bodyless) {
      if (endLength !== undefined) h['content-length'] = endLength;
      else if (this.#minor === 1) {
        h['transfer-encoding'] = 'chunked';
        this.#chunked = true;
      } else this.#keepAlive = false; // HTTP/1.0 without a length: the close ends the body
    }
    const conn = h.connection;
    if (this.#owner.draining || (conn !== undefined && String(conn).toLowerCase().includes('close'))) this.#keepAlive = false;
    if (!this.#keepAlive) h.connection = 'close';
    else if (this.#minor === 0) h.connection = 'keep-alive';
    h.date ??= httpDate();
    return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${headerLines(h)}\r\n`;
  }

  /**
   * 101 Switching Protocols (or the 200 of a terminated CONNECT) with `headers`
   * as given (Connection and Upgrade included, no framing): the head is written
   * and the socket handed over. No 'finish' or 'close' follows: whoever takes
   * the socket ends the stream.
   */
  switchProtocols(status: 101 | 200, headers: Record<string, Value | undefined>): SwitchedConnection {
    this.writeHead(status, headers);
    this.headersSent = true;
    this.writableEnded = true;
    this.#gone = true;
    const socket = this.#owner.socket;
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headerLines(this.#headers)}\r\n`, 'latin1');
    return { socket, rest: this.#owner.detach() };
  }

  write(chunk: Buffer | string): boolean {
    if (this.#gone || this.writableEnded) return false;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const ok = this.#send(data, undefined, false);
    if (!ok) this.#owner.socket.once('drain', () => this.#emit('drain'));
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    this.writableEnded = true;
    const data = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.#gone) {
      this.#send(data, this.headersSent ? undefined : data?.length ?? 0, true);
      this.writableFinished = true;
      this.#emit('finish');
    }
    this.#owner.responseDone(this, !this.#keepAlive || this.#gone);
    this.#emit('close');
    return this;
  }

  /** Writes head (the first time), framed data and, when `last`, the end of a chunked body. */
  #send(data: Buffer | undefined, endLength: number | undefined, last: boolean): boolean {
    const socket = this.#owner.socket;
    const body = this.#isHead || !data || data.length === 0 ? undefined : data;
    let head: string | undefined;
    if (!this.headersSent) {
      head = this.#head(endLength);
      this.headersSent = true;
    }
    if (!this.#chunked) {
      if (head === undefined) return body ? socket.write(body) : true;
      if (!body) return socket.write(head, 'latin1');
      if (body.length > COALESCE_LIMIT) {
        socket.cork();
        socket.write(head, 'latin1');
        const ok = socket.write(body);
        socket.uncork();
        return ok;
      }
      const hl = Buffer.byteLength(head, 'latin1');
      const out = Buffer.allocUnsafe(hl + body.length);
      out.write(head, 0, 'latin1');
      body.copy(out, hl);
      return socket.write(out);
    }
    const pre = (head ?? '') + (body ? chunkHeader(body.length) : '');
    const post = (body ? '\r\n' : '') + (last ? LAST_CHUNK : '');
    socket.cork();
    if (pre) socket.write(pre, 'latin1');
    if (body) socket.write(body);
    const ok = post ? socket.write(post, 'latin1') : true;
    socket.uncork();
    return ok && !socket.writableNeedDrain;
  }

  /** Resets the connection (too late for a status, or the upstream failed mid-body). */
  destroy(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#owner.socket.destroy();
  }

  /** The connection went away before end(). */
  socketClosed(): void {
    if (this.writableEnded) return;
    this.#gone = true;
    this.writableEnded = true;
    this.#owner.responseDone(this, true);
    this.#emit('close');
  }
}
