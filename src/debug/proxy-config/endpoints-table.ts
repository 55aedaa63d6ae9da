/**
 * istioctl proxy-config endpoints, from the admin API's /clusters?format=json:
 * ENDPOINT, STATUS, OUTLIER CHECK, CLUSTER, one row per host, sorted by
 * address, port, cluster. STATUS is the EDS health status, OUTLIER CHECK
 * FAILED while outlier detection ejects the host.
 */
import type { Row } from '../format/table.js';

/** Envoy's /clusters JSON (envoy.admin.v3.Clusters), the parts read here, in either spelling. */
export interface ClustersJson {
  cluster_statuses?: ClusterStatusJson[];
  clusterStatuses?: ClusterStatusJson[];
}
interface ClusterStatusJson {
  name: string;
  host_statuses?: HostStatusJson[];
  hostStatuses?: HostStatusJson[];
}
interface HostStatusJson {
  address?: { socket_address?: SocketJson; socketAddress?: SocketJson; pipe?: { path: string } };
  health_status?: HealthJson;
  healthStatus?: HealthJson;
}
interface SocketJson {
  address: string;
  port_value?: number;
  portValue?: number;
}
interface HealthJson {
  eds_health_status?: string;
  edsHealthStatus?: string;
  failed_outlier_check?: boolean;
  failedOutlierCheck?: boolean;
}

export interface EndpointFilter {
  address?: string;
  port?: number;
  cluster?: string;
  status?: string;
}

export interface EndpointRow {
  address: string;
  port: number;
  cluster: string;
  status: string;
  outlierFailed: boolean;
}

export const ENDPOINTS_HEADER: Row = ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'];

export function endpointsOf(json: ClustersJson): EndpointRow[] {
  const out: EndpointRow[] = [];
  for (const c of json.cluster_statuses ?? json.clusterStatuses ?? []) {
    for (const h of c.host_statuses ?? c.hostStatuses ?? []) {
      const sock = h.address?.socket_address ?? h.address?.socketAddress;
      const health = h.health_status ?? h.healthStatus;
      out.push({
        address: sock?.address ?? (h.address?.pipe ? `unix://${h.address.pipe.path}` : 'unknown'),
        port: sock?.port_value ?? sock?.portValue ?? 0,
        cluster: c.name,
        // Envoy's JSON omits the enum's zero value, UNKNOWN.
        status: health?.eds_health_status ?? health?.edsHealthStatus ?? 'UNKNOWN',
        outlierFailed: health?.failed_outlier_check ?? health?.failedOutlierCheck ?? false,
      });
    }
  }
  return out;
}

export function endpointMatches(f: EndpointFilter, e: EndpointRow): boolean {
  if (f.address && e.address.toLowerCase() !== f.address.toLowerCase()) return false;
  if (f.port && e.port !== f.port) return false;
  if (f.cluster && e.cluster.toLowerCase() !== f.cluster.toLowerCase()) return false;
  if (f.status && e.status.toLowerCase() !== f.status.toLowerCase()) return false;
  return true;
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

export function endpointRows(all: readonly EndpointRow[], f: EndpointFilter, named = false): Row[] {
  return all
    .filter((e) => endpointMatches(f, e))
    .sort((a, b) => cmp(a.address, b.address) || cmp(a.port, b.port) || cmp(a.cluster, b.cluster))
    .map((e) => {
      const endpoint = e.port !== 0 ? `${e.address}:${e.port}` : e.address;
      return [named ? `endpoint/${endpoint}` : endpoint, e.status, e.outlierFailed ? 'FAILED' : 'OK', e.cluster];
    });
}
