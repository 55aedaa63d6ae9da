/**
 * istioctl analyze's gateway SecretAnalyzer (IST0101): a server's
 * credentialName must name a Secret in the namespace of the gateway's pods —
 * where istiod looks for it, and where Trellis's control plane serves it
 * from. Without it the server has no certificate and every handshake fails,
 * which nothing else would say. The gateway's namespace is that of the
 * first workload (Pod, or Deployment template) its selector matches; a
 * Gateway that matches none is not judged here.
 */
import type { Deployment } from '../../config/deployment.js';
import type { AnyObject, Gateway } from '../../config/objects.js';
import type { Finding } from './finding.js';
import { referencedResourceNotFound } from './messages.js';

const satisfies = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The namespace of the first workload the Gateway selects, in namespace/name order. */
function gatewayNamespace(gw: Gateway, workloads: readonly { namespace: string; labels: Record<string, string> }[]): string | undefined {
  const selector = gw.spec.selector ?? {};
  if (Object.keys(selector).length === 0) return undefined;
  return workloads.find((w) => satisfies(selector, w.labels))?.namespace;
}

export function gatewaySecretFindings(objects: Iterable<AnyObject>): { gateway: Gateway; finding: Finding }[] {
  const all = [...objects];
  const workloads = all.flatMap((o) => {
    const namespace = o.metadata.namespace ?? 'default';
    if (o.kind === 'Pod') return [{ namespace, labels: o.metadata.labels ?? {}, key: `${namespace}/${o.metadata.name}` }];
    if (o.kind === 'Deployment') return [{ namespace, labels: (o as Deployment).spec.template.metadata?.labels ?? {}, key: `${namespace}/${o.metadata.name}` }];
    return [];
  }).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const secrets = new Set(all.filter((o) => o.kind === 'Secret').map((o) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`));
  const out: { gateway: Gateway; finding: Finding }[] = [];
  for (const gw of all.filter((o): o is Gateway => o.kind === 'Gateway')) {
    const ns = gatewayNamespace(gw, workloads);
    if (ns === undefined) continue;
    gw.spec.servers.forEach((s, i) => {
      const name = s.tls?.credentialName;
      if (!name || secrets.has(`${ns}/${name}`)) return;
      const { type, message } = referencedResourceNotFound('credentialName', name);
      out.push({ gateway: gw, finding: { type, path: ['spec', 'servers', i, 'tls', 'credentialName'], message } });
    });
  }
  return out;
}
