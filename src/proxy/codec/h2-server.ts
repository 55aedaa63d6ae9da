/**
 * The downstream HTTP/2 codec (h2c, and h2 after TLS with ALPN): a node:http2
 * server that never listens itself; the connection manager hands it accepted
 * sockets. Each stream becomes a request for the connection manager's
 * handler with the listener's context of its connection.
 */
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { CodecConnection, ConnContext } from '../listener/conn-context.js';
import { guardH2Session, h2ServerOptions, type HcmLimits } from './limits.js';
import { keepAlive } from '../../ztunnel/hbone/keepalive.js';

export type H2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, conn: ConnContext) => void;

export class H2Server {
  readonly #server: http2.Http2Server;
  readonly #conns = new WeakMap<http2.Http2Session, ConnContext>();
  /** The socket being handed over: its context, then its session (the server's 'session' event fires synchronously). */
  #pending: ConnContext | undefined;
  #session: http2.Http2Session | undefined;

  /** `onAbusive`: a connection closed by the premature reset check (limits.ts). */
  constructor(handler: H2Handler, idleMs: number, limits: HcmLimits, onAbusive: () => void) {
    const onRequest = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
      const conn = this.#conns.get(req.stream.session as http2.Http2Session);
      if (conn) handler(req, res, conn);
      else res.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    };
    this.#server = http2.createServer(h2ServerOptions(limits), onRequest);
    // node answers a CONNECT 405 by itself unless 'connect' is handled: CONNECT is the HCM's to allow or refuse (HBONE).
    this.#server.on('connect', onRequest);
    // node:http2 keeps a connection open after it answered a protocol error with GOAWAY (and an idle
    // one forever): the idle timeout is what ends both (found by test/fuzz/proxy-peers.test.ts).
    if (idleMs > 0) this.#server.setTimeout(idleMs);
    this.#server.on('session', (s: http2.Http2Session) => {
      const conn = this.#pending;
      if (conn) {
        this.#conns.set(s, conn);
        this.#session = s;
      }
      s.on('error', () => undefined);
      guardH2Session(s, idleMs, onAbusive);
      if (limits.keepalive) keepAlive(s, limits.keepalive);
    });
  }

  /** Takes ownership of a socket; bytes detection unshifted are read by the session itself. */
  accept(socket: Socket, conn: ConnContext): CodecConnection | undefined {
    this.#pending = conn;
    this.#server.emit('connection', socket);
    this.#pending = undefined;
    const s = this.#session;
    this.#session = undefined;
    if (!s) return undefined;
    // The listener's sockets allow half-open (for the TCP proxy), and node's session lives on after the client's
    // FIN: its streams, and their upstream requests, would wait for the idle timeout. A client that ends the TCP
    // connection is gone, as Envoy reads a remote close: every stream is reset (DC), their upstream requests
    // cancelled (issue 12, connection storms). Ended already during detection: the same, once its bytes are read.
    if (socket.readableEnded) setImmediate(() => s.destroy());
    else socket.once('end', () => s.destroy());
    return new H2Connection(s);
  }
}

/** An HTTP/2 connection as the listener drains it. */
class H2Connection implements CodecConnection {
  readonly #session: http2.Http2Session;

  constructor(session: http2.Http2Session) {
    this.#session = session;
  }

  /** GOAWAY: streams in flight finish, the client opens a new connection for the next ones. */
  drain(): void {
    const s = this.#session;
    if (!s.closed && !s.destroyed) s.close();
  }
}
