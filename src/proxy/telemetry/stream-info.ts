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

  finish(): void {
    this.durationMs = Number((process.hrtime.bigint() - this.startNs) / 1_000_000n);
  }
}

/** The order of Envoy's ResponseFlag enum, which is the order it prints flags in. */
const FLAG_ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO'];
const RANK = new Map(FLAG_ORDER.map((f, i) => [f, i]));
const flagRank = (f: string): number => RANK.get(f) ?? FLAG_ORDER.length;
