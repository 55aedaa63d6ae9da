/** The per-request state the router stages share (one object, no per-stage closures). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { StreamInfo } from '../accesslog/stream-info.js';
import type { UpstreamCluster } from '../cluster/upstream-cluster.js';
import type { HcmPlan } from './hcm-plan.js';
import type { HeaderOp } from './header-ops.js';
import type { TlsPeer } from '../tls/peer-identity.js';

export type DownstreamRequest = IncomingMessage | Http2ServerRequest;
export type DownstreamResponse = ServerResponse | Http2ServerResponse;

/** What the listener knows about the downstream connection. */
export interface ConnContext {
  /** The original destination (SO_ORIGINAL_DST, or the listener's own address). */
  originalDst: { address: string; port: number };
  local: string;
  remote: string;
  /** The physical peer's address (RBAC's direct_remote_ip, remote_ip and source_ip: no XFF or PROXY protocol here). */
  remoteIp: string;
  inbound: boolean;
  serverName: string;
  /** Set when the listener drains: HTTP/1.1 responses then carry "connection: close". */
  draining: boolean;
  /**
   * Set by the codec that took the connection: stop taking requests, close
   * when idle (HTTP/1.1: now if between requests; HTTP/2: GOAWAY). The
   * listener calls it when it drains the connection.
   */
  drain?: (() => void) | undefined;
  /** ChainPlan.key of the filter chain serving the connection. */
  chainKey?: string | undefined;
  /** What the connection turned out to carry, once dispatched. */
  protocol: 'h1' | 'h2' | 'tcp' | undefined;
  /** Set when the listener terminated TLS: the peer's first URI SAN ('' without a client certificate). */
  peerUriSan?: string | undefined;
  /** Set when the listener terminated TLS (Envoy's connection.ssl()), with or without a client certificate. */
  tls?: TlsPeer | undefined;
  /** This connection's x-forwarded-client-cert entry, built on its first request (its parts do not change). */
  xfcc?: string | undefined;
  /** The decrypted socket the HTTP/TCP code reads when the listener terminated TLS (the raw one is the map key). */
  tlsSocket?: import('node:net').Socket | undefined;
}

/** During a drain, ends HTTP/1.1 keep-alive after this response (Envoy's drain behaviour). */
export function closeIfDraining(ex: { conn: ConnContext; req: { httpVersionMajor: number }; res: { setHeader(n: string, v: string): unknown } }): void {
  if (ex.conn.draining && ex.req.httpVersionMajor === 1) ex.res.setHeader('connection', 'close');
}

export interface Exchange {
  req: DownstreamRequest;
  res: DownstreamResponse;
  plan: HcmPlan;
  conn: ConnContext;
  info: StreamInfo;
  cluster: UpstreamCluster | undefined;
  /** Weighted-cluster header ops, applied before the route's. */
  clusterRequestOps: readonly HeaderOp[];
  clusterResponseOps: readonly HeaderOp[];
  /** Set when the downstream went away before the response completed. */
  downstreamGone: boolean;
  finished: boolean;
  /** Consistent-hash key for ring hash clusters, from the route's hash policy. */
  hash: number | undefined;
  /** Cancels whatever is in flight upstream when the downstream goes away. */
  abortUpstream: (() => void) | undefined;
  /** The route timeout, still running while the response body streams (Envoy's timeout spans the whole response). */
  routeTimer: NodeJS.Timeout | undefined;
  /** The route timeout fired: a reset after the headers is UT, not UR. */
  routeTimedOut: boolean;
}

/** Envoy's local reply bodies, so clients and tests see the familiar text. */
export const LOCAL_BODY: Record<string, string> = {
  NR: '',
  NC: '',
  UH: 'no healthy upstream',
  UF: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  UO: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
  UR: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  UT: 'upstream request timeout',
  FI: 'fault filter abort',
};
