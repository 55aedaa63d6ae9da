/**
 * What is known about one downstream request or TCP connection when it ends:
 * read by the access log formatter and by the statistics. One object per
 * request, filled in as the request moves through the stages.
 */
import type { Headers } from '../router/header-ops.js';

export class StreamInfo {
  readonly startTime = new Date();
  readonly startNs = process.hrtime.bigint();
  protocol = 'HTTP/1.1';
  method = '';
  /** Path with query, as received. */
  path = '';
  authority = '';
  requestHeaders: Headers = {};
  responseHeaders: Headers | undefined;
  responseCode = 0;
  /** Envoy response flags, e.g. "UF,URX"; "-" when none. */
  readonly flags: string[] = [];
  responseCodeDetails = '';
  /** Why a filter closed the connection (the network RBAC filter's rbac_access_denied_matched_policy[...]). */
  connectionTerminationDetails = '';
  bytesReceived = 0;
  bytesSent = 0;
  upstreamHost = '';
  upstreamCluster = '';
  /** From the cluster's Istio metadata (inbound clusters): the service the request was for. */
  destinationService = '';
  upstreamServiceTimeMs: number | undefined;
  routeName = '';
  downstreamLocal = '';
  downstreamRemote = '';
  requestedServerName = '';
  downstreamPeerUriSan = '';
  /** Filter state io.istio.peer_principal: the caller's identity when the request came through an HBONE tunnel. */
  peerPrincipal = '';
  /** Filled when the request/connection ends. */
  durationMs = 0;

  addFlag(f: string): void {
    if (!this.flags.includes(f)) this.flags.push(f);
  }

  /** Envoy's %RESPONSE_FLAGS%: comma-separated in Envoy's fixed order (its ResponseFlag enum), not in the order they happened. */
  flagString(): string {
    const f = this.flags;
    if (f.length === 0) return '-';
    if (f.length > 1) f.sort((a, b) => flagRank(a) - flagRank(b));
    return f.join(',');
  }

  /** Envoy's %RESPONSE_FLAGS_LONG%: the same flags by their long names (NoHealthyUpstream), same order and separator. */
  flagLongString(): string {
    if (this.flags.length === 0) return '-';
    return this.flagString().split(',').map(flagLongName).join(',');
  }

  finish(): void {
    this.durationMs = Number((process.hrtime.bigint() - this.startNs) / 1_000_000n);
  }
}

/**
 * Envoy's response flags in the order of its ResponseFlag enum (the order it prints them in),
 * each with the long name %RESPONSE_FLAGS_LONG% writes (source/common/stream_info/utility.h).
 */
export const RESPONSE_FLAGS: readonly (readonly [short: string, long: string])[] = [
  ['LH', 'FailedLocalHealthCheck'], ['UH', 'NoHealthyUpstream'], ['UT', 'UpstreamRequestTimeout'], ['LR', 'LocalReset'],
  ['UR', 'UpstreamRemoteReset'], ['UF', 'UpstreamConnectionFailure'], ['UC', 'UpstreamConnectionTermination'],
  ['UO', 'UpstreamOverflow'], ['NR', 'NoRouteFound'], ['DI', 'DelayInjected'], ['FI', 'FaultInjected'], ['RL', 'RateLimited'],
  ['UAEX', 'UnauthorizedExternalService'], ['RLSE', 'RateLimitServiceError'], ['DC', 'DownstreamConnectionTermination'],
  ['URX', 'UpstreamRetryLimitExceeded'], ['SI', 'StreamIdleTimeout'], ['IH', 'InvalidEnvoyRequestHeaders'],
  ['DPE', 'DownstreamProtocolError'], ['UMSDR', 'UpstreamMaxStreamDurationReached'], ['RFCF', 'ResponseFromCacheFilter'],
  ['NFCF', 'NoFilterConfigFound'], ['DT', 'DurationTimeout'], ['UPE', 'UpstreamProtocolError'], ['NC', 'NoClusterFound'],
  ['OM', 'OverloadManagerTerminated'], ['DF', 'DnsResolutionFailed'], ['DO', 'DropOverload'],
];
const RANK = new Map(RESPONSE_FLAGS.map(([f], i) => [f, i]));
const LONG = new Map(RESPONSE_FLAGS.map(([f, l]) => [f, l]));
const flagRank = (f: string): number => RANK.get(f) ?? RESPONSE_FLAGS.length;
/** A flag's long name; one Envoy does not know stays as it is. */
export const flagLongName = (f: string): string => LONG.get(f) ?? f;
