/**
 * A tap event in the shape of Linkerd's (its TapEvent as `linkerd viz tap -o
 * json` prints it): source and destination with metadata labels, route
 * metadata, the proxy direction, and one of requestInitEvent,
 * responseInitEvent, responseEndEvent, with durations as protobuf Durations
 * ({seconds, nanos}). What Linkerd has no field for and Envoy has a name for
 * is added under Envoy's name: the destination's `cluster` and `endpoint`
 * labels, the route's `route` and `virtual_host`, and the end's
 * `responseFlags` (%RESPONSE_FLAGS%) and `responseCodeDetails`. Pure: built
 * from what the stream knows.
 */
import type { Headers } from '../router/header-ops.js';
import type { StreamInfo } from '../telemetry/stream-info.js';
import { tapHeaders } from './tap-match.js';

export interface TapId { base: number; stream: number }
export interface TapDuration { seconds: number; nanos: number }
export interface TapPeer { ip: string; port: number; metadata: Record<string, string> }
export type TapHeaderList = Array<{ name: string; valueStr: string }>;

export interface TapEvent {
  source: TapPeer;
  destination: TapPeer;
  routeMeta: Record<string, string>;
  proxyDirection: 'INBOUND' | 'OUTBOUND';
  requestInitEvent?: { id: TapId; method: string; scheme: string; authority: string; path: string; headers: TapHeaderList };
  responseInitEvent?: { id: TapId; sinceRequestInit: TapDuration; httpStatus: number; headers: TapHeaderList };
  responseEndEvent?: {
    id: TapId; sinceRequestInit: TapDuration; sinceResponseInit: TapDuration; responseBytes: number; trailers: TapHeaderList;
    grpcStatusCode?: number; responseFlags: string; responseCodeDetails: string;
  };
}

/** What an event says about the request besides its phase. */
export interface TapSubject {
  readonly info: StreamInfo;
  readonly inbound: boolean;
  /** The downstream connection is TLS (an inbound mTLS request). */
  readonly tls: boolean;
  readonly route: { name: string; vhost: string } | undefined;
}

export function duration(ns: bigint): TapDuration {
  return { seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) };
}

/** "ip:port" (an IPv6 address unbracketed, as the listener writes it) → its parts. */
function peer(address: string, metadata: Record<string, string>): TapPeer {
  const i = address.lastIndexOf(':');
  return i < 0 ? { ip: address, port: 0, metadata } : { ip: address.slice(0, i), port: Number(address.slice(i + 1)) || 0, metadata };
}

function envelope(s: TapSubject): TapEvent {
  const info = s.info;
  const src: Record<string, string> = {};
  if (s.inbound) src.tls = s.tls ? 'true' : 'no_tls';
  // Linkerd's peer identity label; here the SPIFFE ID of the client certificate.
  if (info.downstreamPeerUriSan) src.client_id = info.downstreamPeerUriSan;
  const dst: Record<string, string> = {};
  if (info.upstreamCluster) dst.cluster = info.upstreamCluster;
  if (info.upstreamHost) dst.endpoint = info.upstreamHost;
  const routeMeta: Record<string, string> = {};
  // Linkerd leaves out labels it has no value for; an unnamed route (Istio's default route) has none.
  if (s.route?.name) routeMeta.route = s.route.name;
  if (s.route?.vhost) routeMeta.virtual_host = s.route.vhost;
  return {
    source: peer(info.downstreamRemote, src),
    destination: peer(info.downstreamLocal, dst),
    routeMeta,
    proxyDirection: s.inbound ? 'INBOUND' : 'OUTBOUND',
  };
}

export function requestInit(s: TapSubject, id: TapId, withHeaders: boolean): TapEvent {
  const info = s.info;
  const q = info.path.indexOf('?');
  return {
    ...envelope(s),
    requestInitEvent: {
      id,
      method: info.method,
      scheme: s.tls ? 'https' : 'http',
      authority: info.authority,
      path: q < 0 ? info.path : info.path.slice(0, q),
      headers: withHeaders ? tapHeaders(info.requestHeaders) : [],
    },
  };
}

export function responseInit(s: TapSubject, id: TapId, sinceRequestNs: bigint, status: number, headers: Headers | undefined): TapEvent {
  return { ...envelope(s), responseInitEvent: { id, sinceRequestInit: duration(sinceRequestNs), httpStatus: status, headers: headers ? tapHeaders(headers) : [] } };
}

export function responseEnd(s: TapSubject, id: TapId, sinceRequestNs: bigint, sinceResponseNs: bigint): TapEvent {
  const info = s.info;
  const grpc = info.responseHeaders?.['grpc-status'];
  return {
    ...envelope(s),
    responseEndEvent: {
      id,
      sinceRequestInit: duration(sinceRequestNs),
      sinceResponseInit: duration(sinceResponseNs),
      responseBytes: info.bytesSent,
      trailers: [],
      ...(typeof grpc === 'string' && /^\d+$/.test(grpc) ? { grpcStatusCode: Number(grpc) } : {}),
      responseFlags: info.flagString(),
      responseCodeDetails: info.responseCodeDetails,
    },
  };
}
