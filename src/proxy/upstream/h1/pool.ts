/**
 * The keep-alive HTTP/1.1 connection pool for one upstream endpoint: at most
 * `connections` sockets, idle ones reused most-recently-used first, requests
 * queued (in order) when all are busy.
 */
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import type { AbortLike } from '../abort.js';
import type { UpstreamResponse } from '../response.js';
import { H1Exchange } from './exchange.js';
import type { UpstreamRequestOptions } from '../request.js';
import { aborted, connectFailed, connectTimeout, poolClosed } from '../errors.js';
import { UpstreamConn, type ConnOwner } from './conn.js';
import { keepaliveOnConnect, type KeepalivePlan } from '../keepalive.js';

export interface H1PoolOptions {
  address: string;
  port: number;
  connections: number;
  connectTimeoutMs: number;
  localAddress?: string | undefined;
  /** TLS to the upstream: tls.connect options with the current secrets, or why there are none. */
  tls?: (() => ConnectionOptions | Error) | undefined;
  keepalive?: KeepalivePlan | undefined;
  /** An endpoint that is an internal listener: its in-process connection (which says 'connect' like a socket), or why not. */
  dial?: (() => net.Socket | Error) | undefined;
}

export class H1Pool implements ConnOwner {
  readonly #o: H1PoolOptions;
  readonly #all = new Set<UpstreamConn>();
  #idle: UpstreamConn[] = [];
  #queue: H1Exchange[] = [];
  #connecting = 0;
  #closed = false;
  /** Exchanges already sent once again after a stale keep-alive connection. */
  readonly #retried = new WeakSet<H1Exchange>();

  constructor(o: H1PoolOptions) {
    this.#o = o;
  }

  /** Resolves with the response once its head arrived; rejects on failure before that. */
  exchange(o: UpstreamRequestOptions, signal: AbortLike): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(aborted());
      const ex = new H1Exchange(o, signal, resolve, reject);
      signal.once('abort', ex.onSignal);
      this.#dispatch(ex);
    });
  }

  #dispatch(ex: H1Exchange): void {
    if (this.#closed) return ex.fail(poolClosed());
    let conn = this.#idle.pop();
    while (conn && conn.closed) conn = this.#idle.pop();
    if (conn) return conn.run(ex);
    this.#queue.push(ex);
    if (this.#all.size + this.#connecting < Math.max(1, this.#o.connections)) this.#connect();
  }

  #connect(): void {
    const o = this.#o;
    let tlsOpts: ConnectionOptions | undefined;
    const dialed = o.dial?.();
    if (dialed instanceof Error) return void queueMicrotask(() => this.#nextLive()?.fail(connectFailed(dialed)));
    if (o.tls && !dialed) {
      const t = o.tls();
      // No secrets yet (or of the wrong kind): fail like a refused connection, never fall back to plaintext.
      // Every dispatch that finds no connection comes here, so each waiting request gets its own answer.
      if (t instanceof Error) return void queueMicrotask(() => this.#nextLive()?.fail(connectFailed(t)));
      tlsOpts = t;
    }
    this.#connecting++;
    const socket = dialed ?? (tlsOpts
      // tls.connect takes socket.connect() options too (localAddress), which its typings leave out.
      ? tls.connect({ ...tlsOpts, host: o.address, port: o.port, localAddress: o.localAddress } as ConnectionOptions)
      : net.connect({ host: o.address, port: o.port, localAddress: o.localAddress }));
    keepaliveOnConnect(socket, o.keepalive);
    let done = false;
    const timer = o.connectTimeoutMs > 0 ? setTimeout(() => fail(connectTimeout()), o.connectTimeoutMs) : undefined;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#connecting--;
      socket.destroy();
      // One failed connect fails the oldest waiting request (as undici does), not all of them.
      this.#nextLive()?.fail(err);
      if (this.#queue.length > 0 && this.#all.size + this.#connecting === 0) this.#connect();
    };
    const onError = (err: Error): void => fail(connectFailed(err));
    socket.once('error', onError);
    socket.once(tlsOpts ? 'secureConnect' : 'connect', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('error', onError);
      this.#connecting--;
      const conn = new UpstreamConn(socket, this);
      this.#all.add(conn);
      this.released(conn, true);
    });
  }

  /** The oldest queued exchange that still waits (aborted ones are dropped). */
  #nextLive(): H1Exchange | undefined {
    let ex = this.#queue.shift();
    while (ex && ex.state !== 'queued') ex = this.#queue.shift();
    return ex;
  }

  released(conn: UpstreamConn, reusable: boolean): void {
    if (!this.#all.has(conn)) return;
    if (!reusable || this.#closed) {
      this.#all.delete(conn);
      conn.socket.destroy();
      if (this.#queue.length > 0 && !this.#closed) this.#connect();
      return;
    }
    const next = this.#nextLive();
    if (next) conn.run(next);
    else this.#idle.push(conn);
  }

  retry(ex: H1Exchange): boolean {
    if (this.#retried.has(ex) || this.#closed || !replayable(ex.opts.body)) return false;
    this.#retried.add(ex);
    ex.state = 'queued';
    ex.conn = undefined;
    ex.received = 0;
    this.#dispatch(ex);
    return true;
  }

  /** Closes idle connections now and busy ones after their response. */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle) c.socket.destroy();
    this.#idle = [];
    const q = this.#queue;
    this.#queue = [];
    for (const ex of q) ex.fail(poolClosed());
  }
}

function replayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || Buffer.isBuffer(body);
}
