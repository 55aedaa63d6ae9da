/**
 * ztunnel's TCP metrics (its src/proxy/metrics.rs, Istio's standard names):
 * istio_tcp_connections_opened_total, _closed_total, istio_tcp_sent_bytes_total
 * and istio_tcp_received_bytes_total, per reporter ("source" for the
 * outbound side, "destination" for the inbound side) and the peers' labels.
 * Plus the connections refused by policy (ztunnel logs them; a counter makes
 * them visible to a test and a dashboard).
 */
import { esc } from '../../proxy/telemetry/stats.js';

export interface ConnectionLabels {
  reporter: 'source' | 'destination';
  source_workload: string;
  source_workload_namespace: string;
  source_principal: string;
  destination_workload: string;
  destination_workload_namespace: string;
  destination_principal: string;
  destination_service: string;
  request_protocol: 'tcp';
  connection_security_policy: 'mutual_tls' | 'unknown';
  response_flags: string;
}

interface Series {
  labels: ConnectionLabels;
  opened: number;
  closed: number;
  sent: number;
  received: number;
}

export class TcpMetrics {
  readonly #series = new Map<string, Series>();
  readonly denied = new Map<string, number>();

  #get(l: ConnectionLabels): Series {
    const k = JSON.stringify(l);
    let s = this.#series.get(k);
    if (!s) this.#series.set(k, (s = { labels: l, opened: 0, closed: 0, sent: 0, received: 0 }));
    return s;
  }

  opened(l: ConnectionLabels): void {
    this.#get(l).opened++;
  }

  /** `sent`: bytes toward the destination; `received`: bytes back from it. */
  closed(l: ConnectionLabels, sent: number, received: number): void {
    const s = this.#get(l);
    s.closed++;
    s.sent += sent;
    s.received += received;
  }

  /** A connection refused: by policy ("policy"), no endpoint, or the tunnel failing. */
  refused(reason: string): void {
    this.denied.set(reason, (this.denied.get(reason) ?? 0) + 1);
  }

  prometheus(): string {
    const out: string[] = [];
    const family = (name: string, help: string, pick: (s: Series) => number) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const s of this.#series.values()) {
        const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',');
        out.push(`${name}{${labels}} ${pick(s)}`);
      }
    };
    family('istio_tcp_connections_opened_total', 'The total number of TCP connections opened', (s) => s.opened);
    family('istio_tcp_connections_closed_total', 'The total number of TCP connections closed', (s) => s.closed);
    family('istio_tcp_sent_bytes_total', 'The size of total bytes sent during response in case of a TCP connection', (s) => s.sent);
    family('istio_tcp_received_bytes_total', 'The size of total bytes received during request in case of a TCP connection', (s) => s.received);
    out.push('# HELP trellis_ztunnel_connections_refused_total Connections the node proxy refused, by reason', '# TYPE trellis_ztunnel_connections_refused_total counter');
    for (const [reason, n] of this.denied) out.push(`trellis_ztunnel_connections_refused_total{reason="${esc(reason)}"} ${n}`);
    return out.join('\n') + '\n';
  }
}
