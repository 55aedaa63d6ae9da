/**
 * A bidirectional gRPC stream over node:http2 — all the proxy needs to speak
 * ADS. Hand-written instead of @grpc/grpc-js because start-up is one of the
 * proxy's goals: grpc-js costs ~50 ms and ~11 MB before the first config
 * (measured in bench/results/proxy-*; docs/ARCHITECTURE.md). The wire format
 * is gRPC's HTTP/2 mapping: POST to /package.Service/Method, content-type
 * application/grpc, te: trailers, messages as 5-byte prefixed frames
 * (compressed flag, big-endian length), status in the grpc-status trailer.
 */
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import type { ConnectionOptions } from 'node:tls';

/** One bidi-streaming method: its path and the message codecs (src/xds/ads-service.ts has them). */
export interface BidiMethod<Req, Res> {
  path: string;
  requestSerialize(m: Req): Buffer;
  responseDeserialize(b: Buffer): Res;
}

/** A gRPC status other than OK, as grpc-js reports it (code, details). */
export class GrpcStatusError extends Error {
  readonly code: number;
  constructor(code: number, details: string) {
    super(`${code} ${details}`);
    this.code = code;
  }
}

const UNAVAILABLE = 14;
const INTERNAL = 13;
const MAX_MESSAGE = 64 * 2 ** 20;
const { NGHTTP2_CANCEL } = http2.constants;

/**
 * The stream: 'data' (a decoded message), 'error' (GrpcStatusError or a
 * transport error), then 'close' exactly once.
 */
export class BidiStream<Req, Res> extends EventEmitter {
  readonly #req: http2.ClientHttp2Stream;
  readonly #method: BidiMethod<Req, Res>;
  #buf: Buffer | undefined;
  #status: { code: number; details: string } | undefined;

  constructor(req: http2.ClientHttp2Stream, method: BidiMethod<Req, Res>) {
    super();
    this.#req = req;
    this.#method = method;
    req.on('response', (h) => {
      const ct = String(h['content-type'] ?? '');
      if (h[':status'] !== 200 || !ct.startsWith('application/grpc')) {
        this.#status = { code: UNAVAILABLE, details: `unexpected response: HTTP ${h[':status']} ${ct}` };
      } else this.#readStatus(h); // a trailers-only response carries the status in its headers
    });
    req.on('trailers', (h) => this.#readStatus(h));
    req.on('data', (chunk: Buffer) => this.#onData(chunk));
    // The server ended the call (status sent): our half is done too, or node:http2 would never close the stream.
    req.on('end', () => {
      if (!req.closed) req.close();
    });
    req.on('error', (err) => this.emit('error', err));
    req.on('close', () => {
      const s = this.#status;
      if (s && s.code !== 0) this.emit('error', new GrpcStatusError(s.code, s.details));
      this.emit('close');
    });
  }

  write(m: Req): void {
    if (this.#req.closed || this.#req.destroyed) return;
    const body = this.#method.requestSerialize(m);
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = 0;
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    this.#req.write(frame);
  }

  /** Half-closes: no more requests (a unary call after its one message). */
  end(): void {
    if (!this.#req.closed && !this.#req.destroyed) this.#req.end();
  }

  cancel(): void {
    if (!this.#req.closed) this.#req.close(NGHTTP2_CANCEL);
  }

  #readStatus(h: http2.IncomingHttpHeaders): void {
    const code = h['grpc-status'];
    if (code === undefined) return;
    const details = h['grpc-message'];
    this.#status = { code: Number(code), details: typeof details === 'string' ? decodeURIComponent(details) : '' };
  }

  #fail(details: string): void {
    this.#status = { code: INTERNAL, details };
    this.cancel();
  }

  #onData(chunk: Buffer): void {
    let buf = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (buf.length >= 5) {
      if (buf[0] !== 0) return this.#fail('compressed message received, none was accepted');
      const len = buf.readUInt32BE(1);
      if (len > MAX_MESSAGE) return this.#fail(`message of ${len} bytes exceeds ${MAX_MESSAGE}`);
      if (buf.length < 5 + len) break;
      let msg: Res;
      try {
        msg = this.#method.responseDeserialize(buf.subarray(5, 5 + len));
      } catch (err) {
        return this.#fail(`cannot decode response: ${(err as Error).message}`);
      }
      buf = buf.subarray(5 + len);
      this.emit('data', msg);
      if (this.#req.closed) return;
    }
    this.#buf = buf.length > 0 ? buf : undefined;
  }
}

export interface GrpcChannelOptions {
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
  /**
   * TLS for the connection (https): read again for every new connection, so
   * a rotated client certificate is used from the next reconnect on. Absent,
   * or returning undefined: plaintext h2c.
   */
  tls?: () => ConnectionOptions | undefined;
}

/** An HTTP/2 connection to one gRPC server (h2c or TLS), reopened on demand, with keepalive pings. */
export class GrpcChannel {
  readonly #address: string;
  readonly #keepaliveMs: number;
  readonly #keepaliveTimeoutMs: number;
  readonly #tls: (() => ConnectionOptions | undefined) | undefined;
  #session: http2.ClientHttp2Session | undefined;

  constructor(address: string, opts: GrpcChannelOptions = {}) {
    this.#address = address;
    this.#keepaliveMs = opts.keepaliveMs ?? 30_000;
    this.#keepaliveTimeoutMs = opts.keepaliveTimeoutMs ?? 20_000;
    this.#tls = opts.tls;
  }

  /** Opens a call; `metadata` are extra request headers (gRPC metadata, e.g. authorization). */
  open<Req, Res>(method: BidiMethod<Req, Res>, metadata: Readonly<Record<string, string>> = {}): BidiStream<Req, Res> {
    const req = this.#connect().request({
      ...metadata,
      ':method': 'POST',
      ':path': method.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'trellis-proxy',
    });
    return new BidiStream(req, method);
  }

  close(): void {
    this.#session?.destroy();
    this.#session = undefined;
  }

  #connect(): http2.ClientHttp2Session {
    const cur = this.#session;
    if (cur && !cur.closed && !cur.destroyed) return cur;
    const tls = this.#tls?.();
    const session = tls ? http2.connect(`https://${this.#address}`, tls) : http2.connect(`http://${this.#address}`);
    this.#session = session;
    // Errors reach the streams (and through them the client's back-off); the session is only forgotten.
    session.on('error', () => undefined);
    const ping = setInterval(() => {
      if (session.destroyed || session.closed) return; // 'close' (which clears this interval) is still to come
      // gRPC keepalive: a ping unanswered within the timeout means the connection is dead.
      const dead = setTimeout(() => session.destroy(new Error('keepalive ping timed out')), this.#keepaliveTimeoutMs);
      dead.unref();
      const sent = session.ping((err) => {
        clearTimeout(dead);
        if (err) session.destroy(err);
      });
      if (!sent) clearTimeout(dead);
    }, this.#keepaliveMs);
    ping.unref();
    session.on('close', () => {
      clearInterval(ping);
      if (this.#session === session) this.#session = undefined;
    });
    return session;
  }
}

/**
 * A unary call on a channel: one request, the one response. Rejects with
 * GrpcStatusError (or the transport error), or after `timeoutMs`.
 */
export function unaryCall<Req, Res>(channel: GrpcChannel, method: BidiMethod<Req, Res>, request: Req, opts: { metadata?: Readonly<Record<string, string>>; timeoutMs: number }): Promise<Res> {
  return new Promise((resolve, reject) => {
    const stream = channel.open(method, opts.metadata);
    let response: Res | undefined;
    let failure: Error | undefined;
    const timer = setTimeout(() => {
      failure ??= new GrpcStatusError(4, `no answer within ${opts.timeoutMs} ms`);
      stream.cancel();
    }, opts.timeoutMs);
    stream.on('data', (m: Res) => { response ??= m; });
    stream.on('error', (err: Error) => { failure ??= err; });
    stream.on('close', () => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (response === undefined) reject(new GrpcStatusError(INTERNAL, 'the call ended without a response'));
      else resolve(response);
    });
    stream.write(request);
    stream.end();
  });
}
