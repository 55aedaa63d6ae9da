/**
 * /config_dump in ztunnel's shape (its admin.rs ConfigDump, as istioctl's
 * ztunnel-config reads it: istioctl/pkg/writer/ztunnel/configdump/api.go):
 * workloads, services, policies (rules as clause/match arrays, string
 * matches as {"Exact": ...}), certificates (each certificate of the chain
 * with its PEM base64-encoded, decimal serial, RFC 3339 times) and
 * workloadState (the pods this process serves, by uid). Pure.
 */
import { X509Certificate } from 'node:crypto';
import type { Match, StringMatch } from '../../gen/workloadapi/security/authorization_pb.js';
import { certificatePem, pemBlocks } from '../../ca/pem.js';
import type { CertificateStatus } from '../certs/workload-certificates.js';
import type { ServedPod } from '../inpod/pod-network.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { ipFromBytes } from '../state/ip.js';
import type { ServiceInfo, WorkloadInfo } from '../state/model.js';
import type { WorkloadIndex } from '../state/workload-index.js';

const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const portMap = (ports: { servicePort: number; targetPort: number }[]) => Object.fromEntries(ports.map((p) => [String(p.servicePort), p.targetPort]));

function workloadJson(w: WorkloadInfo) {
  return {
    uid: w.uid,
    workloadIps: w.addresses,
    protocol: w.hbone ? 'HBONE' : 'TCP',
    name: w.name,
    namespace: w.namespace,
    serviceAccount: w.serviceAccount,
    workloadName: w.raw.workloadName,
    workloadType: 'pod',
    canonicalName: w.raw.canonicalName,
    canonicalRevision: w.raw.canonicalRevision,
    clusterId: w.raw.clusterId,
    trustDomain: w.trustDomain,
    node: w.node,
    status: w.healthy ? 'Healthy' : 'Unhealthy',
    hostname: w.raw.hostname,
    services: [...w.services.keys()].sort(),
    authorizationPolicies: w.authorizationPolicies,
  };
}

function serviceJson(s: ServiceInfo, index: WorkloadIndex) {
  const endpoints: Record<string, unknown> = {};
  for (const w of index.endpointsOf(s.key)) {
    const ports = w.services.get(s.key);
    if (ports) endpoints[`/${w.addresses[0] ?? ''}`] = { workloadUid: w.uid, service: s.key, port: portMap(ports), status: w.healthy ? 'Healthy' : 'Unhealthy' };
  }
  return {
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    vips: s.vips.map((ip) => `/${ip}`),
    ports: portMap(s.ports),
    endpoints,
    ipFamilies: s.vips.some((ip) => ip.includes(':')) ? (s.vips.some((ip) => !ip.includes(':')) ? 'Dual' : 'IPv6') : 'IPv4',
  };
}

function stringMatches(ms: StringMatch[]) {
  return ms.flatMap((m) => (m.matchType.case ? [{ [title(m.matchType.case)]: m.matchType.case === 'presence' ? {} : m.matchType.value }] : []));
}

function cidrs(list: Match['sourceIps']) {
  return list.map((a) => `${ipFromBytes(a.address) ?? '?'}/${a.length}`);
}

function matchJson(m: Match) {
  const entries: [string, unknown[]][] = [
    ['namespaces', stringMatches(m.namespaces)], ['notNamespaces', stringMatches(m.notNamespaces)],
    ['serviceAccounts', m.serviceAccounts.map((s) => ({ namespace: s.namespace, serviceAccount: s.serviceAccount }))],
    ['notServiceAccounts', m.notServiceAccounts.map((s) => ({ namespace: s.namespace, serviceAccount: s.serviceAccount }))],
    ['principals', stringMatches(m.principals)], ['notPrincipals', stringMatches(m.notPrincipals)],
    ['sourceIps', cidrs(m.sourceIps)], ['notSourceIps', cidrs(m.notSourceIps)],
    ['destinationIps', cidrs(m.destinationIps)], ['notDestinationIps', cidrs(m.notDestinationIps)],
    ['destinationPorts', [...m.destinationPorts]], ['notDestinationPorts', [...m.notDestinationPorts]],
  ];
  // As ztunnel serializes it: empty lists left out.
  return Object.fromEntries(entries.filter(([, v]) => v.length > 0));
}

function policyJson(p: CompiledPolicy) {
  return {
    name: p.name,
    namespace: p.namespace,
    scope: p.scope === 'workload' ? 'WorkloadSelector' : title(p.scope),
    action: title(p.action),
    rules: p.raw.rules.map((r) => r.clauses.map((c) => c.matches.map(matchJson))),
    dryRun: p.dryRun,
  };
}

const rfc3339 = (d: string) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');

function certificateJson(c: CertificateStatus) {
  const chain = c.chainPem ? pemBlocks(c.chainPem, 'CERTIFICATE').map((der) => {
    const pem = certificatePem(der);
    const x = new X509Certificate(pem);
    return { pem: Buffer.from(pem).toString('base64'), serialNumber: BigInt(`0x${x.serialNumber}`).toString(10), validFrom: rfc3339(x.validFrom), expirationTime: rfc3339(x.validTo) };
  }) : [];
  return { identity: c.identity, state: c.state, certChain: chain };
}

export function configDump(index: WorkloadIndex, certificates: CertificateStatus[], pods: ServedPod[], trustDomain: string, extra: Record<string, unknown>): Record<string, unknown> {
  const byName = <T extends { namespace: string; name: string }>(a: T, b: T) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
  return {
    workloads: [...index.workloads.values()].sort(byName).map(workloadJson),
    services: [...index.services.values()].sort(byName).map((s) => serviceJson(s, index)),
    policies: [...index.policies.values()].sort(byName).map(policyJson),
    certificates: certificates.map(certificateJson),
    workloadState: Object.fromEntries(pods.map((p) => [p.uid, { state: 'Up', info: { name: p.name, namespace: p.namespace, trustDomain, serviceAccount: p.serviceAccount } }])),
    ...extra,
  };
}
