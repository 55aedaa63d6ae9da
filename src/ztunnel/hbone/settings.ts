/**
 * HBONE's HTTP/2 and TLS settings, with ztunnel's values (src/config.rs,
 * src/proxy/h2/{server,client}.rs in istio/ztunnel) so that a Trellis node
 * proxy and a ztunnel behave alike on the same connection: large windows
 * because one connection carries many long byte streams, a bounded header
 * list because a CONNECT carries few headers, and pings that find a peer
 * that vanished without a FIN (a deleted pod's namespace sends nothing).
 */
import type { Settings } from 'node:http2';

/** Istio's HBONE port (inbound, mTLS). */
export const HBONE_PORT = 15008;

/** Per-stream window: 4 MiB (ztunnel's HTTP2_STREAM_WINDOW_SIZE default). */
export const STREAM_WINDOW = 4 * 1024 * 1024;
/**
 * Per-connection window: 16 MiB, four times a stream's, so that one stream
 * nobody reads cannot starve the others (ztunnel's reason for 4x).
 */
export const CONNECTION_WINDOW = 16 * 1024 * 1024;
/** Largest DATA frame we accept: 1 MiB (ztunnel's HTTP2_FRAME_SIZE). */
export const FRAME_SIZE = 1024 * 1024;
/** A CONNECT carries a handful of headers; 64 KiB as ztunnel's server. */
export const MAX_HEADER_LIST = 64 * 1024;
/** Streams a server accepts at once per connection (ztunnel's server, hyper's default). */
export const SERVER_MAX_STREAMS = 200;
/** Streams a client puts on one pooled connection before it opens another (ztunnel's POOL_MAX_STREAMS_PER_CONNECTION). */
export const CLIENT_MAX_STREAMS = 100;
/** Keepalive: a PING every 10 s once idle of requests, the connection dropped when none is answered in 20 s. */
export const PING_INTERVAL_MS = 10_000;
export const PING_TIMEOUT_MS = 20_000;
/** A pooled connection with no stream for this long is closed (ztunnel's POOL_UNUSED_RELEASE_TIMEOUT). */
export const POOL_IDLE_MS = 5 * 60_000;

/** The SETTINGS both sides send; the connection window is raised separately (setLocalWindowSize). */
export function h2Settings(maxConcurrentStreams: number): Settings {
  return {
    initialWindowSize: STREAM_WINDOW,
    maxFrameSize: FRAME_SIZE,
    maxHeaderListSize: MAX_HEADER_LIST,
    maxConcurrentStreams,
  };
}
