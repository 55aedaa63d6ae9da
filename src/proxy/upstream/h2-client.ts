/**
 * Upstream HTTP/2 over cleartext (h2c) with node:http2: one multiplexed
 * session per endpoint, reopened when it closes. Used for gRPC and clusters
 * configured with http2_protocol_options; trailers are kept (undici's HTTP/2
 * client drops response trailers).
 */
import http2 from 'node:http2';
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import type { AbortLike } from './abort.js';
import { aborted, asUpstreamError, connectFailed, connectTimeout, upstreamReset } from './errors.js';
import type { UpstreamRequestOptions } from './request.js';
import { readableBody, type UpstreamHeaders, type UpstreamResponse } from './response.js';
import { keepaliveOnConnect, type KeepalivePlan } from './keepalive.js';

export class H2Client {
  readonly #origin: string;
  readonly #connectTimeoutMs: number;
  readonly #localAddress: string | undefined;
  #session: http2.ClientHttp2Session | undefined;
  readonly #tls: (() => ConnectionOptions | Error) | undefined;
  readonly #keepalive: KeepalivePlan | undefined;
  /** An internal listener's endpoint: its in-process connection instead of TCP (h2c over it). */
  readonly #dial: (() => net.Socket | Error) | undefined;

  constructor(origin: string, connectTimeoutMs: number, localAddress?: string, tls?: () => ConnectionOptions | Error, keepalive?: KeepalivePlan, dial?: () => net.Socket | Error) {
    this.#origin = origin;
    this.#dial = dial;
    this.#tls = tls;
    this.#keepalive = keepalive;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#localAddress = localAddress;
  }

  #get(): http2.ClientHttp2Session {
    const s = this.#session;
    if (s && !s.closed && !s.destroyed) return s;
    const localAddress = this.#localAddress;
    const t = this.#tls?.();
    if (t instanceof Error) throw t;
    const keepalive = this.#keepalive;
    const dial = this.#dial;
    if (dial) {
      const d = dial();
      if (d instanceof Error) throw d;
      return this.#track(http2.connect(this.#origin, { createConnection: () => d }));
    }
    const session = http2.connect(this.#origin, localAddress || t || keepalive ? {
      createConnection: (u: URL) => {
        const o = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port), localAddress };
        // HTTP/2 over TLS is negotiated by ALPN: h2 first, then what the cluster asks for (Istio's istio-peer-exchange...).
        const socket = t ? tls.connect({ ...t, ...o, ALPNProtocols: ['h2', ...(t.ALPNProtocols as string[] | undefined ?? [])] } as ConnectionOptions) : net.connect(o);
        keepaliveOnConnect(socket, keepalive);
        return socket;
      },
    } : {});
    return this.#track(session);
  }

  #track(session: http2.ClientHttp2Session): http2.ClientHttp2Session {
    const timer = setTimeout(() => session.destroy(connectTimeout()), this.#connectTimeoutMs);
    session.once('connect', () => clearTimeout(timer));
    session.on('error', () => clearTimeout(timer));
    session.once('close', () => {
      clearTimeout(timer);
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  request(o: UpstreamRequestOptions, signal: AbortLike): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      // Aborted already: no stream is opened (the h1 pool does the same), rather than one opened and reset.
      if (signal.aborted) return reject(aborted());
      const headers: http2.OutgoingHttpHeaders = { ':method': o.method, ':path': o.path };
      for (const k in o.headers) {
        if (k === 'host') headers[':authority'] = o.headers[k];
        else headers[k] = o.headers[k];
      }
      let session: http2.ClientHttp2Session;
      let stream: http2.ClientHttp2Stream;
      try {
        session = this.#get();
        stream = session.request(headers, { endStream: o.body === undefined });
      } catch (err) {
        reject(connectFailed(err));
        return;
      }
      let trailers: UpstreamHeaders | undefined;
      const onAbort = () => stream.close(http2.constants.NGHTTP2_CANCEL);
      signal.once('abort', onAbort);
      stream.once('close', () => signal.off('abort', onAbort));
      stream.once('trailers', (t) => { trailers = t as UpstreamHeaders; });
      // A session that never connected fails its streams with node's ERR_HTTP2_STREAM_CANCEL (the reason as its cause).
      stream.on('error', (err) => reject(asUpstreamError(err, session.connecting)));
      stream.once('close', () => reject(upstreamReset('stream closed before response')));
      stream.once('response', (h, flags: number) => {
        const status = Number(h[':status']);
        const out: UpstreamHeaders = {};
        for (const k in h) if (k.charCodeAt(0) !== 58) out[k] = h[k];
        resolve({
          statusCode: status, headers: out, body: readableBody(stream), trailers: () => trailers, discard: () => { stream.resume(); },
          headersOnly: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
        });
      });
      if (typeof o.body === 'string' || Buffer.isBuffer(o.body)) stream.end(o.body);
      else if (o.body) o.body.pipe(stream);
    });
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }
}
