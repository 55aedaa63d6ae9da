/**
 * Settings of the ambient in-pod redirection, with Istio's CNI values
 * (cni/pkg/iptables: in-pod marks, ztunnel's fixed ports, route table 100).
 * The node proxy sets INPOD_MARK on its own sockets in the pod; whatever
 * carries it is never redirected again.
 */

/** SO_MARK of the node proxy's sockets in the pod (1337); must match the proxy's. */
export const INPOD_MARK = 0x539;
/** Connmark of connections the node proxy opened into the pod: their replies take the policy route. */
export const INPOD_TPROXY_MARK = 0x111;
/** Only these bits of the mark are ours: others' marks in the upper bits survive. */
export const INPOD_MASK = 0xfff;
export const INPOD_RESTORE_MASK = 0xffffffff;
/** The policy route for replies: `ip rule fwmark 0x111/0xfff pref 32764 lookup 100`. */
export const INPOD_ROUTE_TABLE = 100;
export const INPOD_RULE_PRIORITY = 32764;

/** ztunnel's ports inside the pod; Istio fixes them, and so do we. */
export const ZTUNNEL_PORTS = {
  outbound: 15001,
  inboundPlaintext: 15006,
  /** HBONE: reaches the node proxy's listener directly, never redirected. */
  inboundHbone: 15008,
  dns: 15053,
} as const;

/** Istio's default addresses the node SNATs kubelet probes to (HOST_PROBE_SNAT_ADDRESS, HOST_PROBE_V6_SNAT_ADDRESS). */
export const DEFAULT_PROBE_SNAT_V4 = '169.254.7.127';
export const DEFAULT_PROBE_SNAT_V6 = 'fd16:9254:7127:1337:ffff:ffff:ffff:ffff';

/** Per-pod override of DNS capture (Istio's PodDNSOverride, from the pod's ambient.istio.io/dns-capture). */
export type PodDnsOverride = 'unset' | 'enabled' | 'disabled';

export interface InpodConfig {
  /** DNS capture for the whole mesh (Istio's REDIRECT_DNS). */
  redirectDns: boolean;
  podDns: PodDnsOverride;
  /** A gateway pod: inbound is not captured to 15006, outbound still is. */
  ingressMode: boolean;
  /** Interfaces whose inbound TCP is treated as outbound (VMs, KubeVirt): straight to 15001. */
  virtualInterfaces: string[];
  /** Also write the IPv6 rules and route (Istio's ENABLE_INBOUND_IPV6). */
  ipv6: boolean;
  /** Source of kubelet probes after the node's SNAT: let through to the app uncaptured. */
  probeSnatV4: string;
  probeSnatV6: string;
}

export function defaultInpodConfig(): InpodConfig {
  return {
    redirectDns: false,
    podDns: 'unset',
    ingressMode: false,
    virtualInterfaces: [],
    ipv6: false,
    probeSnatV4: DEFAULT_PROBE_SNAT_V4,
    probeSnatV6: DEFAULT_PROBE_SNAT_V6,
  };
}

/** The pod's override wins over the mesh setting. */
export function dnsCaptured(cfg: InpodConfig): boolean {
  return cfg.podDns === 'unset' ? cfg.redirectDns : cfg.podDns === 'enabled';
}

/** `mark/mask` as iptables and `ip rule` print it, e.g. "0x539/0xfff". */
export function markMask(mark: number, mask = INPOD_MASK): string {
  return `0x${mark.toString(16)}/0x${mask.toString(16)}`;
}
