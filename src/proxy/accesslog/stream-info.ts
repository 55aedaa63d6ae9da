/**
 * What is known about one downstream request or TCP connection when it ends:
 * read by the access log formatter and by the statistics. One object per
 * request, filled in as the request moves through the stages.
 */
import type { Headers } from '../http/header-ops.js';

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
  bytesReceived = 0;
  bytesSent = 0;
  upstreamHost = '';
  upstreamCluster = '';
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

  flagString(): string {
    return this.flags.length === 0 ? '-' : this.flags.join(',');
  }

  finish(): void {
    this.durationMs = Number((process.hrtime.bigint() - this.startNs) / 1_000_000n);
  }
}
