/**
 * One downstream HTTP/1.1 connection of the proxy's HTTP/1.1 codec: bytes from the
 * socket are parsed in place (head, then body), each request is handed to the
 * router with a H1Request/H1Response pair, and requests are answered in
 * order (a pipelined request waits, socket paused, until the previous
 * response is done). Malformed input gets 400 (431 for oversized heads) and
 * the connection is closed; so does a head that is not complete within the
 * headers timeout, or a request (body or response) that stalls for the idle timeout (408).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { BodyDecoder } from './body.js';
import { checkPartialHead, headEnd, HeadError, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './head.js';
import { H1Request } from './request.js';
import { H1Response, type ResponseOwner } from './response.js';
import type { CodecConnection } from '../../listener/conn-context.js';

/** What the connection calls for each request (the connection manager's router hand-off). */
export type RequestHandler = (req: H1Request, res: H1Response) => void;

/** A request the codec refused before it became a stream (a malformed head): its status and Envoy's details. */
export type ProtocolErrorHandler = (status: number, details: string) => void;

/** Envoy's response code details for what its HTTP/1 codec refuses (Http1ResponseCodeDetails). */
function codecDetails(status: number): string {
  return status === 431 ? 'http1.headers_too_large' : 'http1.codec_error';
}

export interface ServerConnTimeouts {
  /** No bytes either way for this long: an idle connection is closed, a stalled request body gets 408 (Envoy's stream_idle_timeout). 0 = none. */
  idleMs: number;
  /** From the first byte of a request head to its end (Envoy's request_headers_timeout). 0 = none. */
  headersMs: number;
  /** A request head (line and headers) larger gets 431 (Envoy's max_request_headers_kb); MAX_HEAD_BYTES when unset. */
  maxHeadBytes?: number;
}

const noop = (): void => undefined;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

function errorReply(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`;
}

export class ServerConn implements ResponseOwner, CodecConnection {
  readonly socket: Socket;
  /** Drained: the response in progress (or the next) says "connection: close", and the connection ends after it. */
  draining = false;
  readonly #handler: RequestHandler;
  /** Bytes received and not yet consumed (a partial head, or pipelined requests). */
  #buf: Buffer | undefined;
  #decoder: BodyDecoder | undefined;
  #req: H1Request | undefined;
  #res: H1Response | undefined;
  #pumping = false;
  #closed = false;
  /** Set while the body is paused for back-pressure. */
  #bodyPaused = false;
  /** Bytes of a partial head already checked for bad line ends and control characters. */
  #checked = 0;
  #skippedEmptyLine = false;
  /** Responses completed on this connection. */
  #served = 0;
  readonly #headersMs: number;
  readonly #maxHead: number;
  #headTimer: NodeJS.Timeout | undefined;

  readonly #onProtocolError: ProtocolErrorHandler | undefined;

  constructor(socket: Socket, handler: RequestHandler, timeouts: ServerConnTimeouts, onProtocolError?: ProtocolErrorHandler) {
    this.socket = socket;
    this.#handler = handler;
    this.#onProtocolError = onProtocolError;
    this.#headersMs = timeouts.headersMs;
    this.#maxHead = timeouts.maxHeadBytes ?? MAX_HEAD_BYTES;
    socket.on('data', this.#onData);
    socket.on('error', noop);
    socket.once('close', this.#onClose);
    socket.once('end', this.#onEnd);
    if (timeouts.idleMs > 0) socket.setTimeout(timeouts.idleMs, this.#onIdle);
  }

  /**
   * Between requests the connection just closes; a request whose body stopped arriving is failed (408, or a
   * reset once answered), and so is one whose response made no progress either way (Envoy's
   * stream_idle_timeout: a client that stopped reading, an upstream that went quiet), rather than holding
   * its upstream request, and a slot of the cluster's circuit breaker, forever (issue 12).
   */
  readonly #onIdle = (): void => {
    if (!this.#res) this.socket.destroy();
    else if (this.#decoder && !this.#decoder.done) this.#fail(new HeadError('request body stalled', 408));
    else this.#fail(new HeadError('stream idle timeout', 408));
  };

  readonly #onHeadTimeout = (): void => {
    this.#headTimer = undefined;
    if (!this.#res && !this.#closed) this.#fail(new HeadError('request headers timeout', 408));
  };

  /** True between requests: nothing in flight (drain closes such connections now). */
  get idle(): boolean {
    return this.#res === undefined;
  }

  /**
   * No more requests: between requests the connection ends now, otherwise after the response in progress.
   * A connection that has not finished its first request (accepted just before a listener update, its
   * request still on the way or half read) is not "between requests": its request is served, with
   * "connection: close" — closing it would answer a client that did nothing wrong with an empty reply.
   */
  drain(): void {
    this.draining = true;
    // A detached (upgraded) connection is the tunnel's: the listener's drain deadline ends it.
    if (this.idle && this.#served > 0 && this.#buf === undefined && !this.#closed) this.socket.end();
  }

  /** The response in progress switched protocols (101): the socket is the caller's now; returns the bytes read past the request head. */
  detach(): Buffer | undefined {
    const socket = this.socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onClose);
    socket.off('timeout', this.#onIdle);
    socket.setTimeout(0);
    this.#closed = true;
    this.#stopHeadTimer();
    const rest = this.#buf;
    this.#buf = undefined;
    this.#req = undefined;
    this.#res = undefined;
    return rest;
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#buf = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    this.#pump();
  };

  /** The client half-closed (the listener allows half-open for TCP): like node:http, a request in flight is abandoned. */
  readonly #onEnd = (): void => {
    if (this.#res) this.socket.destroy();
    else this.socket.end();
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    this.#stopHeadTimer();
    const body = this.#req?.body;
    if (body && this.#decoder && !this.#decoder.done) body.destroy(new Error('downstream closed during request body'));
    this.#res?.socketClosed();
  };

  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      while (this.#step());
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#pumping = false;
    }
  }

  /** One unit of progress on the buffered bytes; false when more input (or the response) is needed. */
  #step(): boolean {
    const buf = this.#buf;
    if (!buf || this.#closed) return false;
    const dec = this.#decoder;
    if (dec && !dec.done) {
      const n = dec.push(buf, 0, buf.length, this.#onBody);
      this.#buf = n < buf.length ? buf.subarray(n) : undefined;
      if (dec.done) this.#req?.body?.push(null);
      return dec.done && this.#buf !== undefined;
    }
    if (this.#res) {
      // Pipelined: wait for the response in progress, reading nothing more meanwhile.
      this.socket.pause();
      return false;
    }
    // RFC 9112 §2.2: one empty line before a request line is ignored (some clients send CRLF after a body).
    if (buf[0] === 13 && buf[1] === 10 && !this.#skippedEmptyLine) {
      this.#skippedEmptyLine = true;
      this.#buf = buf.length > 2 ? buf.subarray(2) : undefined;
      return this.#buf !== undefined;
    }
    const end = headEnd(buf, 0);
    if (end < 0) {
      this.#partialHead(buf);
      return false;
    }
    if (end > this.#maxHead) throw new HeadError('request head too large', 431);
    const head = parseRequestHead(buf, 0, end);
    this.#buf = end < buf.length ? buf.subarray(end) : undefined;
    this.#stopHeadTimer();
    this.#checked = 0;
    this.#skippedEmptyLine = false;
    this.#start(head);
    return true;
  }

  /**
   * A head still incomplete: refuse at once what can never become valid (bare
   * LF or CR, control characters — so garbage gets a 400 now, not after a
   * timeout) and start the headers timer. Complete heads skip this: the head
   * parser checks them, and a head in one packet costs no timer.
   */
  #partialHead(buf: Buffer): void {
    if (buf.length > this.#maxHead) throw new HeadError('request head too large', 431);
    this.#checked = checkPartialHead(buf, this.#checked);
    if (this.#headTimer === undefined && this.#headersMs > 0) this.#headTimer = setTimeout(this.#onHeadTimeout, this.#headersMs);
  }

  #stopHeadTimer(): void {
    if (this.#headTimer === undefined) return;
    clearTimeout(this.#headTimer);
    this.#headTimer = undefined;
  }

  #start(head: RequestHead): void {
    const dec = new BodyDecoder(head.framing);
    this.#decoder = dec;
    const req = new H1Request(head, this.#onRead);
    const res = new H1Response(this, head.method, head.versionMinor, head.keepAlive);
    this.#req = req;
    this.#res = res;
    if (dec.done) req.body?.push(null);
    // As node:http does without a 'checkContinue' listener: the client may send its body now.
    else if (head.versionMinor === 1 && String(head.headers.expect).toLowerCase() === '100-continue') this.socket.write(CONTINUE, 'latin1');
    this.#handler(req, res);
  }

  readonly #onBody = (chunk: Buffer): void => {
    const body = this.#req?.body;
    // No body stream (answered already): the bytes are read and dropped so the connection stays usable.
    if (!body || body.destroyed) return;
    if (!body.push(chunk) && !this.#bodyPaused) {
      this.#bodyPaused = true;
      this.socket.pause();
    }
  };

  readonly #onRead = (): void => {
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    this.socket.resume();
  };

  responseDone(res: H1Response, close: boolean): void {
    if (res !== this.#res) return;
    this.#res = undefined;
    this.#served++;
    const req = this.#req;
    this.#req = undefined;
    const unread = this.#decoder !== undefined && !this.#decoder.done;
    if (unread) req?.body?.destroy();
    if (close || this.#closed) {
      this.#closed = true;
      this.socket.end();
      return;
    }
    // The rest of an unread body is dropped by #onBody; pipelined requests continue.
    this.#bodyPaused = false;
    this.socket.resume();
    if (this.#buf) process.nextTick(() => this.#pump());
  }

  #fail(err: unknown): void {
    const status = err instanceof HeadError ? err.status : 400;
    this.#closed = true;
    this.#stopHeadTimer();
    this.#buf = undefined;
    const body = this.#req?.body;
    if (body && !body.destroyed) body.destroy(err instanceof Error ? err : new Error(String(err)));
    const res = this.#res;
    // A response already under way cannot become a 400: the connection is reset instead.
    if (res?.headersSent) {
      this.socket.destroy();
      return;
    }
    this.socket.end(errorReply(status), 'latin1');
    // The router's response for this request (if any) is abandoned: it sees a closed connection,
    // as a protocol error (DPE) unless the request only stalled (408).
    if (status !== 408) {
      if (res) res.protocolError = codecDetails(status);
      else this.#onProtocolError?.(status, codecDetails(status));
    }
    res?.socketClosed();
  }
}
