/**
 * HTTP connection manager for one filter chain: a node:http server (HTTP/1.1
 * keep-alive) and a node:http2 server (h2c), never listening themselves; the
 * listener feeds them accepted sockets with emit('connection').
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { ConnContext, DownstreamRequest, DownstreamResponse } from './exchange.js';
import type { HcmPlan } from './hcm-plan.js';
import type { Router } from './router.js';
import { env } from '../../env.js';
import { LeanH1Server } from '../h1/lean-server.js';

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';

export class ConnectionManager {
  readonly plan: HcmPlan;
  readonly #router: Router;
  readonly #h1: http.Server;
  readonly #h2: http2.Http2Server;
  readonly #h1Conns = new WeakMap<Socket, ConnContext>();
  readonly #h2Conns = new WeakMap<http2.Http2Session, ConnContext>();
  /** The context of the socket being handed to the HTTP/2 server (its 'session' event fires synchronously). */
  #pending: ConnContext | undefined;
  /** The experimental HTTP/1.1 engine (TRELLIS_HTTP1_ENGINE=lean) in place of #h1. */
  readonly #lean: LeanH1Server | undefined;

  constructor(plan: HcmPlan, router: Router) {
    this.plan = plan;
    this.#router = router;
    this.#h1 = http.createServer({ keepAliveTimeout: plan.streamIdleTimeoutMs, requestTimeout: 0, headersTimeout: plan.requestHeadersTimeoutMs }, (req, res) => {
      const conn = this.#h1Conns.get(req.socket);
      if (conn) this.#handle(req, res, conn);
      else res.destroy();
    });
    this.#h1.on('clientError', (_err, socket: Socket) => {
      if (socket.writable && !socket.writableEnded) socket.end(BAD_REQUEST);
      socket.destroy();
    });
    this.#lean = env.http1Engine === 'lean'
      ? new LeanH1Server((req, res, conn) => this.#handle(req as unknown as DownstreamRequest, res as unknown as DownstreamResponse, conn), {
        idleMs: plan.streamIdleTimeoutMs,
        headersMs: plan.requestHeadersTimeoutMs,
      })
      : undefined;
    this.#h2 = http2.createServer({}, (req, res) => {
      const conn = this.#h2Conns.get(req.stream.session as http2.Http2Session);
      if (conn) this.#handle(req, res, conn);
      else res.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    });
    // node:http2 keeps a connection open after it answered a protocol error with GOAWAY (and an idle
    // one forever): the idle timeout is what ends both (found by test/fuzz/proxy-peers.test.ts).
    if (plan.streamIdleTimeoutMs > 0) this.#h2.setTimeout(plan.streamIdleTimeoutMs);
    this.#h2.on('session', (s: http2.Http2Session) => {
      const conn = this.#pending;
      if (conn) {
        this.#h2Conns.set(s, conn);
        // GOAWAY: streams in flight finish, the client opens a new connection for the next ones.
        conn.drain = () => { if (!s.closed && !s.destroyed) s.close(); };
      }
      s.on('error', () => undefined);
    });
  }

  #handle(req: DownstreamRequest, res: DownstreamResponse, conn: ConnContext): void {
    this.#router.handle(req, res, this.plan, conn);
  }

  /** Takes ownership of a socket whose first bytes (already unshifted) were detected as `protocol`. */
  accept(socket: Socket, protocol: 'h1' | 'h2', conn: ConnContext): void {
    const useH2 = this.plan.codec === 'http2' || (this.plan.codec === 'auto' && protocol === 'h2');
    if (useH2) {
      this.#pending = conn;
      this.#h2.emit('connection', socket);
      this.#pending = undefined;
    } else if (this.#lean) this.#lean.accept(socket, conn);
    else {
      this.#h1Conns.set(socket, conn);
      // node:http marks a socket with a response in progress (the TLS socket when TLS was terminated); idle ones end now.
      conn.drain = () => { if ((socket as { _httpMessage?: unknown })._httpMessage == null) socket.end(); };
      this.#h1.emit('connection', socket);
    }
  }

  /** Lets open requests finish; idle keep-alive connections are closed now. */
  drain(): void {
    this.#h1.closeIdleConnections();
    this.#lean?.drain();
  }
}
