/**
 * What the listener knows about an accepted connection, created once per
 * connection when it is accepted and read by everything after it: filter
 * chain match, TLS termination, network and HTTP RBAC, XFCC, the TCP proxy,
 * the access log, ORIGINAL_DST clusters.
 */
import type { TlsPeer } from '../tls/peer-identity.js';
import type { JsonObject } from '@bufbuild/protobuf';
import type { FilterState } from '../internal/filter-state.js';

/** An HTTP connection as its codec serves it (codec/h1/server-conn.ts, codec/h2-server.ts). */
export interface CodecConnection {
  /**
   * No new requests: HTTP/1.1 closes now if between requests, else after the response in progress
   * (which says "connection: close"); HTTP/2 sends GOAWAY and lets the open streams finish.
   */
  drain(): void;
}

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
  /** Set when the listener drains the connection (listener-manager.ts): it ends by the drain deadline at the latest. */
  draining: boolean;
  /** The HTTP codec connection serving it, once the connection manager took it: what the listener drains. */
  codec?: CodecConnection | undefined;
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
  /** Filter state: shared by the upstream that opened this (internal) connection, and set by network set_filter_state. */
  filterState?: FilterState | undefined;
  /** Dynamic metadata an internal connection was handed (internal_upstream's passthrough_metadata). */
  metadata?: Record<string, JsonObject> | undefined;
}
