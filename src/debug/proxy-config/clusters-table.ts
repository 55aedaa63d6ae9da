/**
 * istioctl proxy-config clusters: SERVICE FQDN, PORT, SUBSET, DIRECTION,
 * TYPE, DESTINATION RULE, one row per cluster, sorted by FQDN, subset, port
 * and direction. Istio-named clusters are split into their parts; others
 * (BlackHoleCluster, PassthroughCluster) show their name and "-". Filters
 * match as istioctl's do: substrings of the name for --fqdn, --subset and
 * --direction, "|PORT|" for --port.
 */
import { Cluster_DiscoveryType, type Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Row } from '../format/table.js';
import { describeManagement, parseSubsetKey } from './istio-names.js';

export interface ClusterFilter {
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
}

export const CLUSTERS_HEADER: Row = ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'];

export function clusterMatches(f: ClusterFilter, c: Cluster): boolean {
  const n = c.name;
  if (f.fqdn && !n.includes(f.fqdn)) return false;
  if (f.direction && !n.includes(f.direction)) return false;
  if (f.subset && !n.includes(f.subset)) return false;
  if (f.port && !n.includes(`|${f.port}|`)) return false;
  return true;
}

/** Envoy's discovery type name; a custom cluster_type reads STATIC, as Go's GetType() gives. */
export function clusterType(c: Cluster): string {
  return c.clusterDiscoveryType.case === 'type' ? (Cluster_DiscoveryType[c.clusterDiscoveryType.value] ?? 'STATIC') : 'STATIC';
}

function sortKey(c: Cluster): [string, string, number, string] {
  const k = parseSubsetKey(c.name);
  return k ? [k.fqdn, k.subset, k.port, k.direction] : [c.name, '', 0, ''];
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

export function sortClusters(clusters: readonly Cluster[]): Cluster[] {
  return [...clusters].sort((a, b) => {
    const [x, y] = [sortKey(a), sortKey(b)];
    return cmp(x[0], y[0]) || cmp(x[1], y[1]) || cmp(x[2], y[2]) || cmp(x[3], y[3]);
  });
}

/** One row; with `named`, the "cluster/NAME" column first (proxy-config all). */
export function clusterRow(c: Cluster, named = false): Row {
  const k = parseSubsetKey(c.name);
  const cells = k ? [k.fqdn, String(k.port), k.subset || '-', k.direction] : [c.name, '-', '-', '-'];
  const row = [...cells, clusterType(c), describeManagement(c.metadata)];
  return named ? [`cluster/${c.name}`, ...row] : row;
}

export function clusterRows(clusters: readonly Cluster[], f: ClusterFilter, named = false): Row[] {
  return sortClusters(clusters).filter((c) => clusterMatches(f, c)).map((c) => clusterRow(c, named));
}
