/**
 * What one client may cost the proxy (issue 12, hostile input): the limits an
 * HTTP connection manager compiles (Envoy's max_request_headers_kb for both
 * codecs, http2_protocol_options.max_concurrent_streams) and the guard on each
 * HTTP/2 session. The server's settings bound a connection (concurrent
 * streams, header list size); the guard closes a connection whose client
 * resets streams as fast as it opens them (rapid reset, CVE-2023-44487: every
 * stream is a request sent upstream), and resets a stream that makes no
 * progress for stream_idle_timeout, a response stalled on a zero
 * flow-control window included. nghttp2 itself answers SETTINGS, PING and
 * CONTINUATION floods (the connection is closed) and caps resets at a burst
 * of 1,000.
 */
import http2 from 'node:http2';
import type { HttpConnectionManager } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { KeepaliveTiming } from '../../ztunnel/hbone/keepalive.js';
import { durationMs } from '../util.js';

/**
 * Concurrent streams per connection when the HCM's http2_protocol_options do not say: Envoy's default is
 * 2^31-1, which lets one connection hold every upstream slot of a cluster; 100 is what most servers use.
 */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;
/** Envoy's max_request_headers_kb default: a request head (HTTP/1.1: request line and headers) larger gets 431. */
export const DEFAULT_MAX_REQUEST_HEADERS_KB = 60;
/** Envoy's premature reset check: a stream reset by the client within this time of opening counts. */
const PREMATURE_RESET_LIFETIME_MS = 1000;
/** ...and the connection is closed once premature resets are half of this many streams, or half of all after it. */
const PREMATURE_RESET_TOTAL = 500;

export interface HcmLimits {
  /** max_request_headers_kb in bytes: the HTTP/1.1 head, the HTTP/2 header list (SETTINGS_MAX_HEADER_LIST_SIZE). */
  maxRequestHeadersBytes: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS. */
  maxConcurrentStreams: number;
  /**
   * http2_protocol_options.connection_keepalive: a PING every interval, the connection closed when one is not
   * answered within timeout (istiod sets ztunnel's 10 s / 20 s on the HBONE terminate listener: a peer whose
   * pod is gone sends no FIN). Jitter and connection_idle_interval are not implemented (the plain timer runs).
   */
  keepalive: KeepaliveTiming | undefined;
}

export function compileLimits(hcm: HttpConnectionManager): HcmLimits {
  return {
    maxRequestHeadersBytes: (hcm.maxRequestHeadersKb || DEFAULT_MAX_REQUEST_HEADERS_KB) * 1024,
    maxConcurrentStreams: hcm.http2ProtocolOptions?.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
    keepalive: pingTiming(hcm),
  };
}

function pingTiming(hcm: HttpConnectionManager): KeepaliveTiming | undefined {
  const k = hcm.http2ProtocolOptions?.connectionKeepalive;
  const intervalMs = durationMs(k?.interval);
  const timeoutMs = durationMs(k?.timeout);
  // Envoy requires the timeout; no interval means pings only after idle periods, which Trellis does not send.
  return intervalMs && timeoutMs ? { intervalMs, timeoutMs } : undefined;
}

/** The HTTP/2 server's settings; the header list limit holds once the client has acknowledged them. */
export function h2ServerOptions(l: HcmLimits): http2.ServerOptions {
  return { settings: { maxConcurrentStreams: l.maxConcurrentStreams, maxHeaderListSize: l.maxRequestHeadersBytes } };
}

/** Streams the proxy reset itself (idle timeout): their close is not the client's doing. */
const resetByUs = new WeakSet<http2.Http2Stream>();

function resetIdle(stream: http2.Http2Stream): void {
  if (stream.destroyed) return;
  resetByUs.add(stream);
  stream.close(http2.constants.NGHTTP2_CANCEL);
}

/** A stream's progress for the stall sweep: 'drain' events seen, and since when the count has not moved. */
interface Progress { drains: number; seen: number; since: number }

/**
 * Watches one session. Each stream gets node's idle timer (no bytes in or out for stream_idle_timeout);
 * node refreshes that timer while anything moves on the session, so a client that keeps the connection busy
 * with PINGs can hold a response stalled on a zero window forever: a sweep per session resets a stream
 * with bytes waiting to be sent and no 'drain' for that long. Each stream the client resets before the
 * response began, within a second of opening, counts toward Envoy's premature reset limit; past it the
 * connection is closed with GOAWAY(ENHANCE_YOUR_CALM) and `onAbusive` counts it.
 */
export function guardH2Session(session: http2.Http2Session, streamIdleMs: number, onAbusive: () => void): void {
  let closed = 0;
  let premature = 0;
  const open = new Map<http2.Http2Stream, Progress>();
  let sweep: NodeJS.Timeout | undefined;
  if (streamIdleMs > 0) {
    sweep = setInterval(() => {
      const now = performance.now();
      for (const [stream, p] of open) {
        if (stream.bufferSize === 0 || p.drains !== p.seen) {
          p.seen = p.drains;
          p.since = now;
        } else if (now - p.since >= streamIdleMs) resetIdle(stream);
      }
    }, Math.max(50, streamIdleMs / 4));
    sweep.unref();
    session.once('close', () => clearInterval(sweep));
  }
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    const opened = performance.now();
    if (sweep) {
      const p: Progress = { drains: 0, seen: 0, since: opened };
      open.set(stream, p);
      stream.on('drain', () => { p.drains++; });
      stream.setTimeout(streamIdleMs, () => resetIdle(stream));
    }
    stream.once('close', () => {
      open.delete(stream);
      closed++;
      if (stream.rstCode && !stream.headersSent && !resetByUs.has(stream) && performance.now() - opened < PREMATURE_RESET_LIFETIME_MS) premature++;
      const limit = closed < PREMATURE_RESET_TOTAL ? PREMATURE_RESET_TOTAL : closed;
      if (premature * 2 >= limit && !session.destroyed) {
        onAbusive();
        session.destroy(undefined, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      }
    });
  });
}
