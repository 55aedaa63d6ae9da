/**
 * HTTP connection manager for one filter chain: the proxy's own HTTP/1.1
 * server (h1/) and a node:http2 server (h2c), never listening themselves;
 * the listener hands them accepted sockets.
 */
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { ConnContext } from '../listener/conn-context.js';
import type { DownstreamRequest, DownstreamResponse } from './downstream.js';
import type { HcmPlan } from './hcm-plan.js';
import type { Router } from '../router/router-filter.js';
import { H1Server } from './h1/h1-server.js';

export class ConnectionManager {
  readonly plan: HcmPlan;
  readonly #router: Router;
  readonly #h1: H1Server;
  readonly #h2: http2.Http2Server;
  readonly #h2Conns = new WeakMap<http2.Http2Session, ConnContext>();
  /** The context of the socket being handed to the HTTP/2 server (its 'session' event fires synchronously). */
  #pending: ConnContext | undefined;

  constructor(plan: HcmPlan, router: Router) {
    this.plan = plan;
    this.#router = router;
    this.#h1 = new H1Server((req, res, conn) => this.#handle(req as unknown as DownstreamRequest, res as unknown as DownstreamResponse, conn), {
      idleMs: plan.streamIdleTimeoutMs,
      headersMs: plan.requestHeadersTimeoutMs,
    });
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
    } else this.#h1.accept(socket, conn);
  }

  /** Lets open requests finish; idle keep-alive connections are closed now. */
  drain(): void {
    this.#h1.drain();
  }
}
