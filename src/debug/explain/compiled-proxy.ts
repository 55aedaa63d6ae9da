/**
 * A proxy's config dump compiled by the proxy's own compilers — the same
 * functions that run when the resources arrive over xDS (listener plans,
 * route tables, cluster and endpoint plans) — so explain decides with the
 * proxy's matchers, never a copy. A resource that does not compile is kept
 * out and named in `problems`, as the proxy would have NACKed it.
 */
import { X509Certificate } from 'node:crypto';
import type { Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { compileListener, type ListenerPlan } from '../../proxy/listener/listener-plan.js';
import { addressIndex, type AddressIndex } from '../../proxy/listener/dispatch.js';
import { compileRouteConfig, type RouteTable } from '../../proxy/router/route-table.js';
import { compileCluster, compileEndpoints, type ClusterPlan, type EndpointsPlan } from '../../proxy/upstream/cluster-plan.js';
import { certificatePeer, type TlsPeer } from '../../proxy/tls/peer-identity.js';
import { endpointsOf, type EndpointRow } from '../proxy-config/endpoints-table.js';
import type { ProxySnapshot } from './types.js';

export interface CompiledProxy {
  label: string;
  podIp: string | undefined;
  listeners: ListenerPlan[];
  byAddress: AddressIndex;
  routes: Map<string, { raw: RouteConfiguration; table: RouteTable }>;
  clusters: Map<string, { raw: Cluster; plan: ClusterPlan }>;
  /** By EDS resource name. */
  endpoints: Map<string, EndpointsPlan>;
  /** /clusters: each host's health and outlier state, by cluster. */
  hosts: Map<string, EndpointRow[]>;
  /** The workload certificate this proxy presents (SDS "default"), when the dump shows it. */
  identity: TlsPeer | undefined;
  /** ISTIO_META_INTERCEPTION_MODE from the bootstrap's node metadata ("REDIRECT" when unset, as Istio). */
  interception: string;
  problems: string[];
}

export function compileProxy(s: ProxySnapshot): CompiledProxy {
  const problems = [...s.dump.problems];
  const listeners: ListenerPlan[] = [];
  for (const l of s.dump.listeners) {
    const r = compileListener(l);
    if (r.ok) listeners.push(r.value);
    else problems.push(`listener ${l.name}: ${r.errors.join('; ')}`);
  }
  const routes = new Map<string, { raw: RouteConfiguration; table: RouteTable }>();
  for (const rc of s.dump.routes) {
    const r = compileRouteConfig(rc);
    if (r.ok) routes.set(rc.name, { raw: rc, table: r.table });
    else problems.push(`route configuration ${rc.name}: ${r.errors.join('; ')}`);
  }
  const clusters = new Map<string, { raw: Cluster; plan: ClusterPlan }>();
  for (const c of s.dump.clusters) {
    const r = compileCluster(c);
    if (r.ok) clusters.set(c.name, { raw: c, plan: r.value });
    else problems.push(`cluster ${c.name}: ${r.errors.join('; ')}`);
  }
  const endpoints = new Map<string, EndpointsPlan>();
  for (const cla of s.dump.endpoints) {
    const r = compileEndpoints(cla);
    if (r.ok) endpoints.set(cla.clusterName, r.value);
    else problems.push(`endpoints ${cla.clusterName}: ${r.errors.join('; ')}`);
  }
  const hosts = new Map<string, EndpointRow[]>();
  for (const row of endpointsOf(s.clusters)) hosts.set(row.cluster, [...(hosts.get(row.cluster) ?? []), row]);
  const meta = s.dump.bootstrap?.node?.metadata as Record<string, unknown> | undefined;
  return {
    label: s.label,
    podIp: s.podIp,
    listeners,
    byAddress: addressIndex(listeners),
    routes,
    clusters,
    endpoints,
    hosts,
    identity: identityOf(s),
    interception: typeof meta?.['INTERCEPTION_MODE'] === 'string' ? meta['INTERCEPTION_MODE'] : 'REDIRECT',
    problems,
  };
}

function identityOf(s: ProxySnapshot): TlsPeer | undefined {
  const secret = s.dump.secrets.find((x) => x.name === 'default')?.secret;
  const cert = secret?.type.case === 'tlsCertificate' ? secret.type.value.certificateChain?.specifier : undefined;
  if (cert?.case !== 'inlineString' && cert?.case !== 'inlineBytes') return undefined;
  try {
    return certificatePeer(new X509Certificate(cert.value));
  } catch {
    return undefined;
  }
}
