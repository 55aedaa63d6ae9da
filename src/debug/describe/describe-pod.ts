/**
 * `trellis describe pod`: istioctl x describe pod in plain text — the pod and
 * its ports, each service that selects it (ports, DestinationRule and
 * subsets, VirtualService routes), the mTLS mode its sidecar enforces (from
 * the PeerAuthentications that apply), and the AuthorizationPolicies that
 * apply. Pure: the mesh's config and the pod in, lines out.
 */
import type { Pod, VirtualService } from '../../config/objects.js';
import { composePeerAuthentication, type EffectiveMtls } from '../../controlplane/registry/peer-authentication.js';
import { selectVirtualService } from '../../controlplane/translate/routes/hosts.js';
import { hasSidecar, namespacesOf } from '../injection.js';
import type { MeshConfig } from '../mesh-config.js';
import { destinationRuleLines, kname, serviceLines, subsetsForPod, virtualServiceLines } from './service-section.js';

const RULE = '--------------------';

function podLines(pod: Pod, meshed: boolean): string[] {
  const ns = pod.metadata.namespace ?? 'default';
  const ports = (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => `${p.containerPort}${p.protocol && p.protocol !== 'TCP' ? `/${p.protocol}` : ''} (${c.name})`));
  const out = [`Pod: ${kname(pod.metadata, ns)}`, ports.length > 0 ? `   Pod Ports: ${ports.join(', ')}` : '   Pod does not expose ports'];
  if (pod.status?.phase !== undefined && pod.status.phase !== 'Running') return [...out, `   Pod is not Running (${pod.status.phase})`];
  if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status !== 'True')) out.push(`WARNING: Pod ${kname(pod.metadata, ns)} is NOT READY`);
  if (!meshed) return [...out, `WARNING: ${kname(pod.metadata, ns)} is not part of mesh; no Istio sidecar`];
  const labels = pod.metadata.labels ?? {};
  if (!labels['app'] && !labels['app.kubernetes.io/name']) out.push('Suggestion: add an "app" label: Istio\'s telemetry names the service by it.');
  if (!labels['version'] && !labels['app.kubernetes.io/version']) out.push('Suggestion: add a "version" label: Istio\'s telemetry names the revision by it.');
  return out;
}

/** istioctl lists applied policies as "name.namespace", wherever they are. */
const dotted = (o: { metadata: { name: string; namespace?: string } }) => `${o.metadata.name}.${o.metadata.namespace ?? 'default'}`;

function mtlsLines(e: EffectiveMtls): string[] {
  const out = ['Effective PeerAuthentication:', `   Workload mTLS mode: ${e.mode}`];
  if (e.perPort.size > 0) {
    out.push('   Port Level mTLS mode:');
    for (const [port, mode] of [...e.perPort].sort((a, b) => a[0] - b[0])) out.push(`      ${port}: ${mode}`);
  }
  const applied = [e.mesh, e.namespace, e.workload].filter((p) => p !== undefined);
  if (applied.length > 0) out.push('Applied PeerAuthentication:', `   ${applied.map(dotted).join(', ')}`);
  if (e.shadowed.length > 0) out.push(`   (ignored, an older policy at the same level wins: ${e.shadowed.map(dotted).join(', ')})`);
  return out;
}

const hasRoutes = (vs: VirtualService) => (vs.spec.http?.length ?? 0) > 0 || (vs.spec.tcp?.length ?? 0) > 0;

export function describePod(cfg: MeshConfig, pod: Pod): string {
  const { model, objects } = cfg;
  const ns = pod.metadata.namespace ?? 'default';
  const labels = pod.metadata.labels ?? {};
  const meshed = hasSidecar(pod, namespacesOf(objects));
  const out = podLines(pod, meshed);
  const services = model.servicesForWorkload(ns, labels);
  if (services.length === 0) out.push(`Warning: No Kubernetes Services select pod ${kname(pod.metadata, ns)}`);
  for (const svc of services) {
    out.push(RULE, ...serviceLines(svc, pod));
    const dr = model.destinationRule(svc.hostname, ns);
    const subsets = subsetsForPod(dr, labels);
    if (dr) out.push(...destinationRuleLines(dr, subsets, ns));
    const vs = selectVirtualService(model, ns, svc.hostname, hasRoutes);
    if (vs) out.push(...virtualServiceLines(vs, svc, subsets, dr, ns, model.domainSuffix));
  }
  const workload = { namespace: ns, labels };
  out.push(RULE, ...mtlsLines(composePeerAuthentication(model.rootNamespace, model.peerAuthenticationsFor(ns, labels), workload)));
  // As Envoy evaluates them: CUSTOM, DENY, ALLOW, then AUDIT (logged only).
  const aps = [...model.authorizationPoliciesFor(ns, labels)].sort((a, b) => ACTION_ORDER[a.spec?.action ?? 'ALLOW'] - ACTION_ORDER[b.spec?.action ?? 'ALLOW']);
  if (aps.length > 0) out.push('Applied AuthorizationPolicy:', `   ${aps.map((p) => `${dotted(p)} (${p.spec?.action ?? 'ALLOW'})`).join(', ')}`);
  else out.push('No AuthorizationPolicy applies: every request is allowed.');
  return out.join('\n') + '\n';
}

const ACTION_ORDER = { CUSTOM: 0, DENY: 1, ALLOW: 2, AUDIT: 3 } as const;
