/**
 * The proxy's statistics: Istio's standard metrics (istio_requests_total,
 * istio_request_duration_milliseconds, ...) keyed by their label set, plus
 * Envoy-style named counters. Rendered by the admin API.
 */
import { isIP } from 'node:net';
import type { StreamInfo } from './stream-info.js';
import { Histogram } from './histogram.js';

/** Labels fixed per proxy (from node metadata). */
export interface PeerLabels {
  workload: string;
  namespace: string;
  app: string;
}

interface HttpSeries {
  labels: string;
  requests: number;
  duration: Histogram;
  requestBytes: Histogram;
  responseBytes: Histogram;
}

interface TcpSeries {
  labels: string;
  opened: number;
  closed: number;
  sent: number;
  received: number;
}

const BYTE_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

export class ProxyStats {
  readonly #self: PeerLabels;
  readonly #http = new Map<string, HttpSeries>();
  /** Request inputs → series; a cache (cleared when large: authorities come from clients). */
  readonly #byKey = new Map<string, HttpSeries>();
  readonly #tcp = new Map<string, TcpSeries>();
  /** Envoy-style counters by full name (e.g. "listener.0.0.0.0_9080.downstream_cx_total"). */
  readonly counters = new Map<string, number>();

  constructor(self: PeerLabels) {
    this.#self = self;
  }

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  /** One finished HTTP request; `inbound` selects reporter="destination". */
  recordHttp(s: StreamInfo, inbound: boolean, grpc: boolean): void {
    // The label string is ~600 characters: build it once per distinct input, not per request.
    const key = `${inbound ? 'i' : 'o'}${grpc ? 'g' : 'h'}${s.responseCode}|${s.flagString()}|${s.upstreamCluster}|${s.authority}|${s.peerPrincipal || s.downstreamPeerUriSan}|${s.destinationService}`;
    let series = this.#byKey.get(key);
    if (!series) {
      if (this.#byKey.size >= 4096) this.#byKey.clear();
      this.#byKey.set(key, (series = this.#series(s, inbound, grpc)));
    }
    series.requests++;
    series.duration.observe(s.durationMs);
    series.requestBytes.observe(s.bytesReceived);
    series.responseBytes.observe(s.bytesSent);
  }

  #series(s: StreamInfo, inbound: boolean, grpc: boolean): HttpSeries {
    // Inbound clusters name no service; Istio's cluster metadata does (the control plane puts it there).
    const svc = s.destinationService || destinationService(s.upstreamCluster, s.authority);
    // Only a service hostname (name.ns.svc...) names a service; an IP authority (a call by cluster IP) does not.
    const [svcName, svcNs] = isIP(svc) ? [] : svc.split('.');
    const me = this.#self;
    // Inbound, the client's SPIFFE id (Istio's source_principal): as istio_stats, the HBONE tunnel's peer
    // (filter state io.istio.peer_principal) first, else the mTLS connection's certificate.
    const peer = inbound ? s.peerPrincipal || s.downstreamPeerUriSan : '';
    const labels =
      `reporter="${inbound ? 'destination' : 'source'}",source_workload="${inbound ? 'unknown' : me.workload}",source_workload_namespace="${inbound ? 'unknown' : me.namespace}",source_app="${inbound ? 'unknown' : me.app}",source_principal="${esc(peer || 'unknown')}",` +
      `destination_workload="${inbound ? me.workload : 'unknown'}",destination_workload_namespace="${inbound ? me.namespace : 'unknown'}",destination_service="${esc(svc)}",destination_service_name="${esc(svcName ?? 'unknown')}",destination_service_namespace="${esc(svcNs ?? 'unknown')}",` +
      `request_protocol="${grpc ? 'grpc' : 'http'}",response_code="${s.responseCode}",response_flags="${s.flagString()}",connection_security_policy="${inbound ? (peer ? 'mutual_tls' : 'none') : 'unknown'}"`;
    let series = this.#http.get(labels);
    if (!series) {
      series = { labels, requests: 0, duration: new Histogram(), requestBytes: new Histogram(BYTE_BUCKETS), responseBytes: new Histogram(BYTE_BUCKETS) };
      this.#http.set(labels, series);
    }
    return series;
  }

  /** One TCP proxy connection: opened when it starts, bytes and closed when it ends. */
  recordTcp(cluster: string, event: 'open' | 'close', sent = 0, received = 0): void {
    const svc = destinationService(cluster, '');
    const labels = `reporter="source",source_workload="${this.#self.workload}",source_workload_namespace="${this.#self.namespace}",destination_service="${esc(svc)}"`;
    let t = this.#tcp.get(labels);
    if (!t) this.#tcp.set(labels, (t = { labels, opened: 0, closed: 0, sent: 0, received: 0 }));
    if (event === 'open') t.opened++;
    else {
      t.closed++;
      t.sent += sent;
      t.received += received;
    }
  }

  renderPrometheus(): string {
    let out = '# TYPE istio_requests_total counter\n';
    for (const s of this.#http.values()) out += `istio_requests_total{${s.labels}} ${s.requests}\n`;
    out += '# TYPE istio_request_duration_milliseconds histogram\n';
    for (const s of this.#http.values()) out += s.duration.render('istio_request_duration_milliseconds', s.labels);
    out += '# TYPE istio_request_bytes histogram\n';
    for (const s of this.#http.values()) out += s.requestBytes.render('istio_request_bytes', s.labels);
    out += '# TYPE istio_response_bytes histogram\n';
    for (const s of this.#http.values()) out += s.responseBytes.render('istio_response_bytes', s.labels);
    const tcp: Array<[string, keyof TcpSeries]> = [
      ['istio_tcp_connections_opened_total', 'opened'], ['istio_tcp_connections_closed_total', 'closed'],
      ['istio_tcp_sent_bytes_total', 'sent'], ['istio_tcp_received_bytes_total', 'received'],
    ];
    for (const [name, key] of tcp) {
      out += `# TYPE ${name} counter\n`;
      for (const t of this.#tcp.values()) out += `${name}{${t.labels}} ${t[key]}\n`;
    }
    return out;
  }
}

/** outbound|9080|v1|reviews.default.svc.cluster.local → reviews.default.svc.cluster.local; else the authority's host. */
export function destinationService(cluster: string, authority: string): string {
  const parts = cluster.split('|');
  if (parts.length === 4 && parts[3]) return parts[3];
  const host = authority.replace(/:\d+$/, '');
  return host || cluster || 'unknown';
}

export function esc(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}
