/**
 * Which pods back a Service port, as the endpoints controller decides: pods
 * of the Service's namespace whose labels its selector matches, ready, with
 * the target port resolved (a number, or a container port's name). What
 * kube-proxy's rules (netns mode) and the userspace service proxy (loopback
 * mode) balance over. Pure.
 */
import type { Service } from '../../config/objects.js';

export interface EndpointPod {
  namespace: string;
  labels: Readonly<Record<string, string>>;
  ip: string;
  ready: boolean;
  /** Named container ports. */
  ports: Readonly<Record<string, number>>;
}

export interface ServicePortBackends {
  service: Service;
  port: number;
  protocol: 'tcp' | 'udp';
  backends: { ip: string; port: number }[];
}

function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function serviceBackends(services: readonly Service[], pods: readonly EndpointPod[]): ServicePortBackends[] {
  const out: ServicePortBackends[] = [];
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    const members = pods.filter((p) => p.ready && p.namespace === ns && selects(svc.spec?.selector, p.labels));
    for (const sp of svc.spec?.ports ?? []) {
      if (sp.protocol === 'SCTP') continue;
      const target = sp.targetPort ?? sp.port;
      const backends = members.flatMap((p) => {
        const port = typeof target === 'number' ? target : p.ports[target];
        return port === undefined ? [] : [{ ip: p.ip, port }];
      });
      backends.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
      out.push({ service: svc, port: sp.port, protocol: sp.protocol === 'UDP' ? 'udp' : 'tcp', backends });
    }
  }
  return out;
}
