/**
 * istio-init, Trellis's way: `trellis iptables` with the capture flags, as
 * root with NET_ADMIN and NET_RAW and nothing else (iptables-restore needs
 * both; no privilege escalation, no privileged mode).
 */
import type { InjectionConfig } from './config.js';
import type { Container } from './k8s-types.js';
import { INIT_CONTAINER } from './names.js';

export function initContainer(args: string[], image: string, resources: Container['resources'], cfg: InjectionConfig): Container {
  return {
    name: INIT_CONTAINER,
    image,
    ...(cfg.imagePullPolicy ? { imagePullPolicy: cfg.imagePullPolicy } : {}),
    args,
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
