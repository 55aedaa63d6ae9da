/**
 * One downstream HTTP/1.1 connection of the lean engine: bytes from the
 * socket are parsed in place (head, then body), each request is handed to the
 * router with a LeanRequest/LeanResponse pair, and requests are answered in
 * order (a pipelined request waits, socket paused, until the previous
 * response is done). Malformed input gets 400 (431 for oversized heads) and
 * the connection is closed.
 */
import type { Socket } from 'node:net';
import { BodyDecoder } from './body.js';
import { headEnd, HeadError, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './head.js';
import { LeanRequest } from './request.js';
import { LeanResponse, type ResponseOwner } from './response.js';

/** What the connection calls for each request (the connection manager's router hand-off). */
export type RequestHandler = (req: LeanRequest, res: LeanResponse) => void;

const noop = (): void => undefined;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

function errorReply(status: number): string {
  const reason = status === 431 ? 'Request Header Fields Too Large' : status === 505 ? 'HTTP Version Not Supported' : 'Bad Request';
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`;
}

export class ServerConn implements ResponseOwner {
  readonly socket: Socket;
  readonly #handler: RequestHandler;
  /** Bytes received and not yet consumed (a partial head, or pipelined requests). */
  #buf: Buffer | undefined;
  #decoder: BodyDecoder | undefined;
  #req: LeanRequest | undefined;
  #res: LeanResponse | undefined;
  #pumping = false;
  #closed = false;
  /** Set while the body is paused for back-pressure. */
  #bodyPaused = false;

  constructor(socket: Socket, handler: RequestHandler, idleTimeoutMs: number) {
    this.socket = socket;
    this.#handler = handler;
    socket.on('data', this.#onData);
    socket.on('error', noop);
    socket.once('close', this.#onClose);
    socket.once('end', this.#onEnd);
    if (idleTimeoutMs > 0) {
      socket.setTimeout(idleTimeoutMs, () => {
        if (!this.#res) socket.destroy();
      });
    }
  }

  /** True between requests: nothing in flight (drain closes such connections now). */
  get idle(): boolean {
    return this.#res === undefined;
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
    const end = headEnd(buf, 0);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) throw new HeadError('request head too large', 431);
      return false;
    }
    if (end > MAX_HEAD_BYTES) throw new HeadError('request head too large', 431);
    const head = parseRequestHead(buf, 0, end);
    this.#buf = end < buf.length ? buf.subarray(end) : undefined;
    this.#start(head);
    return true;
  }

  #start(head: RequestHead): void {
    const dec = new BodyDecoder(head.framing);
    this.#decoder = dec;
    const req = new LeanRequest(head, this.#onRead);
    const res = new LeanResponse(this, head.method, head.versionMinor, head.keepAlive);
    this.#req = req;
    this.#res = res;
    // listener/listener-manager.ts tells idle sockets by node:http's marker when it drains.
    (this.socket as { _httpMessage?: unknown })._httpMessage = res;
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

  responseDone(res: LeanResponse, close: boolean): void {
    if (res !== this.#res) return;
    this.#res = undefined;
    (this.socket as { _httpMessage?: unknown })._httpMessage = null;
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
    // The router's response for this request (if any) is abandoned: it sees a closed connection.
    res?.socketClosed();
  }
}
