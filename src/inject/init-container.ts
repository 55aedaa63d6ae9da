/**
 * istio-init, Trellis's way: `trellis iptables` with the capture flags, as
 * root with NET_ADMIN and NET_RAW and nothing else (iptables-restore needs
 * both; no privilege escalation, no privileged mode). Like Istio's template
 * it gets the pod's proxyMetadata as environment: ISTIO_META_DNS_CAPTURE
 * there turns DNS capture on in the rules as in the proxy.
 */
import type { InjectionConfig } from './config.js';
import type { Container } from './k8s-types.js';
import { INIT_CONTAINER } from './names.js';

export function initContainer(args: string[], image: string, resources: Container['resources'], cfg: InjectionConfig, proxyMetadata: Readonly<Record<string, string>> = {}): Container {
  // Go templates range over a map in key order.
  const env = Object.entries(proxyMetadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, value]) => ({ name, value }));
  return {
    name: INIT_CONTAINER,
    image,
    ...(cfg.imagePullPolicy ? { imagePullPolicy: cfg.imagePullPolicy } : {}),
    args,
    ...(env.length > 0 ? { env } : {}),
    resources: resources ?? {},
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      readOnlyRootFilesystem: false,
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    },
  };
}
