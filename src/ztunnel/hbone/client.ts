/**
 * The HBONE client: a CONNECT tunnel to a destination through the HBONE
 * endpoint in front of it (address:15008), over mutual TLS with the source
 * workload's certificate. The server must prove one of the destination's
 * expected SPIFFE identities during the handshake, or the handshake is
 * aborted before any byte of the tunnel is sent. No SNI is sent (the endpoint
 * is an IP address). The result is the tunnel as a Duplex: its end() is the
 * END_STREAM of our half, its 'end' the server's. The sidecar proxy uses the
 * same client with TLS options made from its SDS secrets (`tls`), whose own
 * peer check is the cluster's validation context.
 */
import { connect as h2Connect, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { errorMessage, TrellisError } from '../../errors.js';
import { ClientPool, poolKey } from './client-pool.js';
import { formatForwarded, formatHostPort, type Destination } from './connect-request.js';
import { keepAlive, type KeepaliveTiming } from './keepalive.js';
import { CLIENT_MAX_STREAMS, CONNECTION_WINDOW, h2Settings, HBONE_PORT } from './settings.js';
import { identityMismatch, sanSpiffeIds } from './spiffe-peer.js';
import { workloadTlsOptions, type WorkloadCertificate } from './workload-tls.js';

export interface HboneClientOptions {
  /** The source workload's certificate; the server must then prove one of the request's expectedIdentities. */
  certificate?: WorkloadCertificate;
  /**
   * Or: TLS options made elsewhere (the proxy's SDS secrets), checking the server themselves
   * (checkServerIdentity); TLS 1.3 and ALPN h2 are still required. An Error: no connection (secrets missing).
   */
  tls?: () => ConnectionOptions | Error;
  /** The source workload's SPIFFE id (the pool key's first part). */
  identity: string;
  keepalive?: KeepaliveTiming;
  /** How long opening one tunnel (TLS, CONNECT, upstream connect) may take; 10 s by default. */
  connectTimeoutMs?: number;
  /**
   * Makes the TCP connection to an HBONE endpoint (connecting; TLS goes on top): the node proxy's,
   * from inside the source pod's network namespace. Absent: node's own connect from this process.
   */
  socket?: (endpoint: { host: string; port: number }) => Duplex;
}

export interface TunnelRequest {
  /** The HBONE endpoint's address (the destination pod's, or its waypoint's). */
  address: string;
  port?: number;
  /** Where the tunnel goes: the CONNECT's :authority. */
  destination: Destination;
  /** SPIFFE ids the server may present; anything else aborts the handshake. */
  expectedIdentities: readonly string[];
  /** The original source, sent as forwarded: for="ip:port". */
  forwardedFor?: Destination;
  /** The :authority when it is not the destination's IP:port (Envoy's tunneling_config hostname). */
  authority?: string;
  /** More request headers (Envoy's tunneling_config headers_to_add). */
  headers?: Readonly<Record<string, string>>;
  baggage?: string;
  traceparent?: string;
}

/** The server answered the CONNECT with `status` (400, 401, 503, ...). */
export class HboneRefusedError extends TrellisError {
  constructor(readonly status: number, target: string) {
    super('HBONE_REFUSED', `HBONE CONNECT ${target}: the server answered ${status}`);
  }
}

export class HboneClient {
  readonly #opts: HboneClientOptions;
  readonly #pool = new ClientPool();

  constructor(opts: HboneClientOptions) {
    this.#opts = opts;
  }

  /** Open pooled connections. */
  get connections(): number {
    return this.#pool.size;
  }

  /** Opens a tunnel; resolves once the server answered 200 (its upstream is connected). */
  async connect(req: TunnelRequest): Promise<Duplex> {
    // Raised before any I/O: a name here would be resolved through DNS, and HBONE endpoints are workload addresses.
    if (!isIP(req.address)) throw new TrellisError('HBONE_CONNECT_FAILED', `HBONE endpoint ${JSON.stringify(req.address)} is not an IP address`);
    const at = { host: req.address, port: req.port ?? HBONE_PORT };
    const endpoint = formatHostPort(at);
    const target = `${formatHostPort(req.destination)} via ${endpoint}`;
    const timeoutMs = this.#opts.connectTimeoutMs ?? 10_000;
    const key = poolKey(this.#opts.identity, req.expectedIdentities, endpoint);
    const acquiring = this.#pool.acquire(key, () => this.#open(at, req.expectedIdentities, timeoutMs));
    const { session, release } = await withTimeout(acquiring, timeoutMs, target).catch((err: unknown) => {
      // Given up on, but the pool still counts this tunnel once its connection comes: hand it back then.
      acquiring.then((a) => a.release(), () => undefined);
      throw err;
    });
    try {
      const stream = session.request(connectHeaders(req), { endStream: false });
      stream.once('close', release);
      await withTimeout(answered(stream, target), timeoutMs, target).catch((err: unknown) => {
        stream.destroy();
        throw err;
      });
      return stream;
    } catch (err) {
      release();
      // session.request() throws node's own errors when the connection went away in between.
      throw err instanceof TrellisError ? err : new TrellisError('HBONE_CONNECT_FAILED', `HBONE CONNECT ${target}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Stops using this client (its certificate was replaced): no new tunnels; each connection closes with
   * GOAWAY as soon as its last tunnel ends, idle ones at once, and no open tunnel is cut. Resolves once
   * the last connection is gone.
   */
  drain(): Promise<void> {
    return this.#pool.drain();
  }

  /** Closes every pooled connection (and the tunnels on them). */
  close(): Promise<void> {
    return this.#pool.close();
  }

  /** TLS for one connection: the workload certificate with the SPIFFE check, or the caller's options. */
  #tlsOptions(endpoint: string, expected: readonly string[]): ConnectionOptions {
    const { certificate, tls } = this.#opts;
    if (tls) {
      const t = tls();
      if (t instanceof Error) throw new TrellisError('HBONE_CONNECT_FAILED', `HBONE ${endpoint}: ${t.message}`, { cause: t });
      return { ...t, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ALPNProtocols: ['h2'] };
    }
    if (!certificate) throw new TrellisError('HBONE_CONNECT_FAILED', `HBONE ${endpoint}: no certificate and no TLS options`);
    return {
      ...workloadTlsOptions(certificate),
      // node's own check reads DNS and IP SANs only; HBONE's identity is the SPIFFE URI SAN.
      checkServerIdentity: (_host, cert) => {
        const why = identityMismatch(sanSpiffeIds(cert.subjectaltname), expected);
        return why ? new TrellisError('HBONE_IDENTITY', `HBONE ${endpoint}: ${why}`) : undefined;
      },
    };
  }

  #open(at: { host: string; port: number }, expected: readonly string[], timeoutMs: number): Promise<ClientHttp2Session> {
    const endpoint = formatHostPort(at);
    return new Promise((resolve, reject) => {
      const tls = this.#tlsOptions(endpoint, expected);
      const { socket } = this.#opts;
      let session: ClientHttp2Session;
      try {
        session = h2Connect(`https://${endpoint}`, {
          ...tls,
          settings: { ...h2Settings(CLIENT_MAX_STREAMS), enablePush: false },
          // host: the IP, so that no SNI is sent and the identity check runs as without a socket of ours.
          ...(socket ? { createConnection: () => tlsConnect({ ...tls, host: at.host, port: at.port, socket: socket(at) }) } : {}),
        });
      } catch (err) {
        // The socket could not be made (its network namespace gone): no connection, said as the others.
        return reject(new TrellisError('HBONE_CONNECT_FAILED', `HBONE ${endpoint}: ${errorMessage(err)}`, { cause: err }));
      }
      // A peer that never finishes the handshake must not leave a pending connection in the pool for ever.
      const stalled = setTimeout(() => session.destroy(new Error(`no TLS handshake in ${timeoutMs} ms`)), timeoutMs);
      session.once('close', () => clearTimeout(stalled));
      session.once('connect', () => {
        clearTimeout(stalled);
        session.off('error', reject);
        session.on('error', () => undefined);
        session.setLocalWindowSize(CONNECTION_WINDOW);
        keepAlive(session, this.#opts.keepalive);
        resolve(session);
      });
      session.once('error', (err) => {
        session.destroy();
        reject(err instanceof TrellisError ? err : new TrellisError('HBONE_CONNECT_FAILED', `HBONE ${endpoint}: ${err.message}`, { cause: err }));
      });
    });
  }
}

function connectHeaders(req: TunnelRequest): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = { ...req.headers, ':method': 'CONNECT', ':authority': req.authority ?? formatHostPort(req.destination) };
  if (req.forwardedFor) h['forwarded'] = formatForwarded(req.forwardedFor);
  if (req.baggage !== undefined) h['baggage'] = req.baggage;
  if (req.traceparent !== undefined) h['traceparent'] = req.traceparent;
  return h;
}

function answered(stream: ClientHttp2Stream, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err?: Error) => reject(new TrellisError('HBONE_CONNECT_FAILED', `HBONE CONNECT ${target}: the stream closed before an answer${err ? ` (${err.message})` : ''}`, { cause: err }));
    stream.once('error', failed);
    stream.once('close', () => failed());
    stream.once('response', (h) => {
      stream.off('error', failed);
      stream.on('error', () => undefined);
      const status = Number(h[':status']);
      if (status === 200) resolve();
      else reject(new HboneRefusedError(status, target));
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, target: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TrellisError('HBONE_CONNECT_FAILED', `HBONE CONNECT ${target}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
