/** The metric labels of one proxied connection (tcp-metrics.ts), from what the index knows of its ends. */
import type { ConnectionLabels } from '../admin/tcp-metrics.js';
import { workloadIdentity, type ServiceInfo, type WorkloadInfo } from '../state/model.js';

const UNKNOWN = 'unknown';

export function connectionLabels(
  reporter: ConnectionLabels['reporter'],
  source: { workload?: WorkloadInfo; principal?: string },
  destination: { workload?: WorkloadInfo; service?: ServiceInfo },
  mtls: boolean,
): ConnectionLabels {
  const s = source.workload;
  const d = destination.workload;
  return {
    reporter,
    source_workload: s?.name ?? UNKNOWN,
    source_workload_namespace: s?.namespace ?? UNKNOWN,
    source_principal: source.principal ?? (s ? workloadIdentity(s) : UNKNOWN),
    destination_workload: d?.name ?? UNKNOWN,
    destination_workload_namespace: d?.namespace ?? UNKNOWN,
    destination_principal: d ? workloadIdentity(d) : UNKNOWN,
    destination_service: destination.service?.hostname ?? UNKNOWN,
    request_protocol: 'tcp',
    connection_security_policy: mtls ? 'mutual_tls' : 'unknown',
    response_flags: '-',
  };
}
