/**
 * What the listener knows about an accepted connection, created once per
 * connection when it is accepted and read by everything after it: filter
 * chain match, TLS termination, network and HTTP RBAC, XFCC, the TCP proxy,
 * the access log, ORIGINAL_DST clusters.
 */
import type { TlsPeer } from '../tls/peer-identity.js';

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
