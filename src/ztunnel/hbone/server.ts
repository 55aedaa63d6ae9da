/**
 * The HBONE server (port 15008 in production): mutual TLS 1.3 with ALPN h2,
 * a client certificate required, verified against the mesh CA and then
 * checked to carry a SPIFFE id of this trust domain; then HTTP/2 CONNECT
 * only. Each tunnel: authorize(peer, request) → 401 when denied; dial(dest)
 * → 503 when the upstream connect fails; 200 only once it succeeded, then
 * bytes both ways. A request that is not such a CONNECT gets 400, as
 * ztunnel's; nothing a client sends can throw out of here.
 */
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { constants, createSecureServer, type Http2SecureServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { readConnectRequest, type Destination, type HboneRequest } from './connect-request.js';
import { keepAlive, type KeepaliveTiming } from './keepalive.js';
import { CONNECTION_WINDOW, h2Settings, SERVER_MAX_STREAMS } from './settings.js';
import { splice } from './splice.js';
import { certificateSpiffeIds, trustDomainMismatch, type SpiffeId } from './spiffe-peer.js';
import { workloadTlsOptions, type WorkloadCertificate } from './workload-tls.js';

export type Decision = 'allow' | 'deny';

/** L4 policy for one tunnel: the authenticated peer, where it wants to go, and what it said (forwarded, baggage, traceparent). */
export type Authorize = (peer: SpiffeId, request: HboneRequest) => Decision | Promise<Decision>;

/**
 * Opens the upstream connection; resolves once it is connected, rejects when it cannot be. `tunnel` is what
 * authorize() judged (the peer and its request), so a dial can act on the same caller.
 */
export type Dial = (destination: Destination, tunnel: { peer: SpiffeId; request: HboneRequest }) => Promise<Duplex>;

export interface HboneServerOptions {
  certificate: WorkloadCertificate;
  /** Clients must present a SPIFFE id of this trust domain (e.g. cluster.local). */
  trustDomain: string;
  authorize?: Authorize;
  dial?: Dial;
  keepalive?: KeepaliveTiming;
}

/** A TCP connection with allowHalfOpen, so that a client's END_STREAM becomes a FIN while replies still flow. */
export const dialTcp: Dial = (d) =>
  new Promise((resolve, reject) => {
    const s: Socket = netConnect({ host: d.host, port: d.port, allowHalfOpen: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });

export class HboneServer {
  readonly #server: Http2SecureServer;
  readonly #opts: HboneServerOptions;
  readonly #peers = new WeakMap<Http2Session, SpiffeId>();
  readonly #sessions = new Set<Http2Session>();

  constructor(opts: HboneServerOptions) {
    this.#opts = opts;
    this.#server = createSecureServer({
      ...workloadTlsOptions(opts.certificate),
      requestCert: true,
      rejectUnauthorized: true,
      allowHTTP1: false,
      settings: h2Settings(SERVER_MAX_STREAMS),
    });
    this.#server.on('session', (s) => this.#onSession(s));
    this.#server.on('stream', (stream, headers) => this.#onStream(stream, headers));
    // A handshake that fails (no client certificate, TLS 1.2, unknown CA) is the client's problem, not an exit.
    this.#server.on('tlsClientError', () => undefined);
  }

  /**
   * Listens on host:port (127.0.0.1 unless told; port 0 picks one), or on a listening socket made
   * elsewhere (`{ fd }`: the node proxy's, inside a pod's network namespace).
   */
  listen(port: number, host?: string): Promise<AddressInfo>;
  listen(handle: { fd: number }): Promise<AddressInfo>;
  listen(where: number | { fd: number }, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      const listening = () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      };
      if (typeof where === 'number') this.#server.listen(where, host, listening);
      else this.#server.listen(where, listening);
    });
  }

  /**
   * Presents `certificate` from the next handshake on (a renewal); connections already made keep
   * the one they were made with, and stay up.
   */
  setCertificate(certificate: WorkloadCertificate): void {
    this.#server.setSecureContext(workloadTlsOptions(certificate));
  }

  /** Stops listening and destroys every connection (and its tunnels). */
  close(): Promise<void> {
    for (const s of this.#sessions) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  // Checked when the session starts, before its first frame is read: a client of another trust domain never opens a stream.
  #onSession(session: Http2Session): void {
    const ids = certificateSpiffeIds((session.socket as TLSSocket).getPeerX509Certificate());
    const refused = trustDomainMismatch(ids, this.#opts.trustDomain);
    if (refused) {
      // INADEQUATE_SECURITY in the GOAWAY: the peer learns why, where a plain close would look like a crash.
      session.on('error', () => undefined);
      session.goaway(constants.NGHTTP2_INADEQUATE_SECURITY);
      session.close();
      setTimeout(() => session.destroy(), 1_000).unref();
      return;
    }
    this.#peers.set(session, ids.find((id) => id.trustDomain === this.#opts.trustDomain)!);
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    session.on('error', () => undefined);
    session.setLocalWindowSize(CONNECTION_WINDOW);
    keepAlive(session, this.#opts.keepalive);
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const peer = this.#peers.get(stream.session!);
    if (!peer) return void stream.close(constants.NGHTTP2_REFUSED_STREAM);
    const verdict = readConnectRequest(headers);
    if (!verdict.ok) return void respond(stream, verdict.status);
    const connectionSource = stream.session?.socket?.remoteAddress;
    this.#tunnel(stream, peer, connectionSource ? { ...verdict.request, connectionSource } : verdict.request).catch(() => stream.destroy());
  }

  async #tunnel(stream: ServerHttp2Stream, peer: SpiffeId, request: HboneRequest): Promise<void> {
    const decision = this.#opts.authorize ? await this.#opts.authorize(peer, request) : 'allow';
    if (decision !== 'allow') return respond(stream, 401);
    let upstream: Duplex;
    try {
      upstream = await (this.#opts.dial ?? dialTcp)(request.destination, { peer, request });
    } catch {
      return respond(stream, 503);
    }
    if (stream.destroyed || stream.closed) return void upstream.destroy();
    upstream.on('error', () => undefined);
    stream.respond({ ':status': 200 });
    await splice(stream, upstream);
  }
}

function respond(stream: ServerHttp2Stream, status: number): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': status }, { endStream: true });
}
