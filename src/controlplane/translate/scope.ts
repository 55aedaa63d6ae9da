import { objectKey } from '../../config/objects.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import type { MeshModel, MeshService, Workload } from '../registry/model.js';
import { isEmpty } from '../registry/labels.js';
import { visibleServices } from '../registry/visibility.js';
import type { RouteScope } from './contracts.js';
import { dnsFamilyOf, type DnsFamily } from './clusters.js';
import { usesAutoAddresses, withAutoVip } from './auto-addresses.js';

/** Who a proxy is in the model: its workload (if known) and the labels that select its config. */
export interface ProxyIdentity {
  namespace: string;
  labels: Readonly<Record<string, string>>;
  workload?: Workload;
}

export function identify(model: MeshModel, node: ProxyNode): ProxyIdentity {
  const namespace = node.namespace;
  let workload = model.workload(namespace, node.podName);
  for (const ip of node.ipAddresses) {
    if (workload) break;
    const w = model.workloadByIp(ip);
    if (w && w.namespace === namespace) workload = w;
  }
  const labels = !isEmpty(node.labels) ? node.labels : workload?.labels ?? {};
  return { namespace, labels, workload };
}

/** Does any VirtualService visible from `namespace` match on sourceLabels? Then routing depends on the proxy's labels. */
export function usesSourceLabels(model: MeshModel, namespace: string): boolean {
  return model.virtualServices(namespace).some((vs) =>
    (vs.spec.http ?? []).some((r) => (r.match ?? []).some((m) => !isEmpty(m.sourceLabels))) ||
    (vs.spec.tcp ?? []).some((r) => (r.match ?? []).some((m) => !isEmpty(m.sourceLabels))) ||
    (vs.spec.tls ?? []).some((r) => (r.match ?? []).some((m) => !isEmpty(m.sourceLabels))),
  );
}

/** Labels as a canonical string, for cache keys. */
export function labelsKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

export interface ScopeSpec {
  key: string;
  scope: RouteScope;
  registryOnly: boolean;
  generator: 'envoy' | 'grpc';
  /** The family of the scope's DNS clusters (V4_ONLY when absent). */
  dnsFamily?: DnsFamily;
  /** Its HTTP listeners find clusters on demand (on-demand.ts). */
  onDemand?: boolean;
}

/**
 * The scope key and, when new, the scope: namespace + Sidecar + generator
 * (+ the proxy's labels when sourceLabels routing makes them matter, + the
 * DestinationRules whose workloadSelector selects the proxy, + DNS capture and
 * an IPv6-only family when they change what the proxy sees).
 * `sourceLabelNs` caches usesSourceLabels per namespace for one generator.
 */
export function scopeKey(model: MeshModel, node: ProxyNode, id: ProxyIdentity, sourceLabelNs: Map<string, boolean>, onDemand = false): { key: string; make: () => ScopeSpec } {
  const sidecar = model.sidecarFor(id.namespace, id.labels);
  let bySource = sourceLabelNs.get(id.namespace);
  if (bySource === undefined) sourceLabelNs.set(id.namespace, (bySource = usesSourceLabels(model, id.namespace)));
  // Rare: a DestinationRule with a workloadSelector selects this proxy, so its clusters and routes are its own.
  const selectedRules = model.selectedDestinationRules(id.namespace, id.labels);
  const dnsFamily = dnsFamilyOf(node.ipAddresses);
  const dnsCapture = node.generator === 'envoy' && usesAutoAddresses(node);
  const key = `${node.generator}|${id.namespace}|${sidecar ? objectKey(sidecar) : ''}${bySource ? `|${labelsKey(id.labels)}` : ''}${selectedRules ? `|dr:${selectedRules.key}` : ''}${dnsCapture ? '|dns' : ''}${dnsFamily === 'V4_ONLY' ? '' : '|v6'}${onDemand ? '|odcds' : ''}`;
  const make = (): ScopeSpec => {
    let services: readonly MeshService[] = visibleServices(model.services, id.namespace, sidecar);
    if (dnsCapture) services = services.map((s) => withAutoVip(s, dnsFamily));
    const scope: RouteScope = {
      model, namespace: id.namespace, services, ...(bySource ? { node } : {}), ...(selectedRules ? { selectedRules } : {}),
    };
    return { key, scope, registryOnly: sidecar?.spec.outboundTrafficPolicy?.mode === 'REGISTRY_ONLY', generator: node.generator, dnsFamily, ...(onDemand ? { onDemand } : {}) };
  };
  return { key, make };
}

/**
 * A gRPC target "HOST:PORT" among the visible services. HOST may be the FQDN,
 * or Kubernetes' shorter forms relative to the proxy's namespace
 * ("name", "name.ns", "name.ns.svc").
 */
export function resolveGrpcTarget(byHost: ReadonlyMap<string, MeshService>, name: string, namespace: string, domainSuffix: string): { svc: MeshService; port: number } | undefined {
  const colon = name.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = name.slice(0, colon);
  const port = Number(name.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  const dots = host.split('.').length - 1;
  const candidates = [host];
  if (dots === 0) candidates.push(`${host}.${namespace}.svc.${domainSuffix}`);
  if (dots === 1) candidates.push(`${host}.svc.${domainSuffix}`);
  if (dots === 2 && host.endsWith('.svc')) candidates.push(`${host}.${domainSuffix}`);
  for (const h of candidates) {
    const svc = byHost.get(h);
    if (svc && svc.ports.some((p) => p.port === port)) return { svc, port };
  }
  return undefined;
}
