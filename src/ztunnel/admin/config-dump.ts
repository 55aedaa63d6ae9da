/**
 * /config_dump in ztunnel's shape (its admin.rs ConfigDump: workloads,
 * services, policies, certificates, each in ztunnel's camelCase field names),
 * which `istioctl ztunnel-config` reads. Pure: from the index and the
 * certificate list.
 */
import type { CertificateStatus } from '../certs/workload-certificates.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import type { ServiceInfo, WorkloadInfo } from '../state/model.js';
import type { WorkloadIndex } from '../state/workload-index.js';

const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function workloadJson(w: WorkloadInfo) {
  return {
    uid: w.uid,
    workloadIps: w.addresses,
    protocol: w.hbone ? 'HBONE' : 'TCP',
    name: w.name,
    namespace: w.namespace,
    trustDomain: w.trustDomain,
    serviceAccount: w.serviceAccount,
    workloadName: w.raw.workloadName,
    canonicalName: w.raw.canonicalName,
    canonicalRevision: w.raw.canonicalRevision,
    node: w.node,
    clusterId: w.raw.clusterId,
    status: w.healthy ? 'Healthy' : 'Unhealthy',
    services: [...w.services.keys()].sort(),
    authorizationPolicies: w.authorizationPolicies,
  };
}

function serviceJson(s: ServiceInfo, index: WorkloadIndex) {
  const endpoints: Record<string, unknown> = {};
  for (const w of index.workloads.values()) {
    const ports = w.services.get(s.key);
    if (!ports) continue;
    endpoints[w.uid] = { workloadUid: w.uid, service: s.key, port: Object.fromEntries(ports.map((p) => [String(p.servicePort), p.targetPort])), status: w.healthy ? 'Healthy' : 'Unhealthy' };
  }
  return {
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    vips: s.vips.map((ip) => `/${ip}`),
    ports: Object.fromEntries(s.ports.map((p) => [String(p.servicePort), p.targetPort])),
    endpoints,
  };
}

function policyJson(p: CompiledPolicy) {
  return {
    name: p.name,
    namespace: p.namespace,
    scope: p.scope === 'workload' ? 'WorkloadSelector' : title(p.scope),
    action: title(p.action),
    dryRun: p.dryRun,
    rules: p.rules.length,
  };
}

function certificateJson(c: CertificateStatus) {
  return {
    identity: c.identity,
    state: c.state,
    pods: c.pods,
    certChain: c.chainPem ? [{ pem: c.chainPem, serialNumber: c.serial, validFrom: c.notBefore, expirationTime: c.notAfter }] : [],
  };
}

export function configDump(index: WorkloadIndex, certificates: CertificateStatus[], extra: Record<string, unknown>): Record<string, unknown> {
  const byName = <T extends { namespace: string; name: string }>(a: T, b: T) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
  return {
    workloads: [...index.workloads.values()].sort(byName).map(workloadJson),
    services: [...index.services.values()].sort(byName).map((s) => serviceJson(s, index)),
    policies: [...index.policies.values()].sort(byName).map(policyJson),
    certificates: certificates.map(certificateJson),
    ...extra,
  };
}
