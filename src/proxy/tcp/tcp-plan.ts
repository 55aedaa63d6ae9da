/** Compiles the TcpProxy network filter config. */
import type { TcpProxy } from '../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { durationMs } from '../util.js';
import { compileAccessLog, type AccessLogSink } from '../telemetry/access-log-sink.js';
import { compileTunneling, type TunnelingPlan } from './tunneling-plan.js';

export interface TcpPlan {
  statPrefix: string;
  /** Cumulative weights; a single cluster is one entry. */
  clusters: Array<{ name: string; upTo: number }>;
  total: number;
  /** Envoy's default idle timeout is 1 h; 0 disables it. */
  idleTimeoutMs: number;
  /** One line per connection, written when it closes. */
  accessLogs: AccessLogSink[];
  /** tunneling_config: each connection goes in an HTTP/2 CONNECT to the endpoint (tcp-tunnel.ts). */
  tunneling: TunnelingPlan | undefined;
}

export function compileTcpProxy(tp: TcpProxy, path: string, errors: string[]): TcpPlan {
  const s = tp.clusterSpecifier;
  const clusters: TcpPlan['clusters'] = [];
  let total = 0;
  if (s.case === 'cluster') {
    if (!s.value) errors.push(`${path}.cluster: empty`);
    clusters.push({ name: s.value, upTo: (total = 1) });
  } else if (s.case === 'weightedClusters') {
    s.value.clusters.forEach((c, i) => {
      if (!c.name) errors.push(`${path}.weightedClusters.clusters[${i}].name: missing`);
      if (c.weight === 0) return;
      total += c.weight;
      clusters.push({ name: c.name, upTo: total });
    });
    if (total === 0) errors.push(`${path}.weightedClusters: total weight is 0`);
  } else {
    errors.push(`${path}.clusterSpecifier: missing`);
  }
  const accessLogs = tp.accessLog.map((a, i) => compileAccessLog(a, `${path}.accessLog[${i}]`, errors)).filter((x): x is AccessLogSink => !!x);
  const tunneling = compileTunneling(tp.tunnelingConfig, path, errors);
  return { statPrefix: tp.statPrefix, clusters, total, idleTimeoutMs: durationMs(tp.idleTimeout) ?? 3_600_000, accessLogs, tunneling };
}
