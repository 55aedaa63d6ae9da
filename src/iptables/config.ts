/**
 * The capture configuration: what `trellis iptables` (like istio-iptables)
 * needs to decide which packets the sidecar sees. Plain data, validated once
 * by `flags.ts`; the rule builder (`capture.ts`) reads it and never mutates it.
 */

export type InterceptionMode = 'REDIRECT' | 'TPROXY';

/** `'*'` means every port / every address; an empty list means none. */
export type Selection<T> = '*' | T[];

export interface CaptureConfig {
  /** -p: the proxy's outbound capture port (Envoy's virtualOutbound). */
  proxyPort: number;
  /** -z: the proxy's inbound capture port (virtualInbound). */
  inboundCapturePort: number;
  /** -e: the HBONE tunnel port, never captured inbound. */
  inboundTunnelPort: number;
  /** -u: user ids whose traffic is never captured (the proxy's own). */
  proxyUids: string[];
  /** -g: group ids whose traffic is never captured. */
  proxyGids: string[];
  /** -m: how inbound traffic reaches the proxy. */
  inboundMode: InterceptionMode;
  /** -t: packet mark of TPROXY-diverted packets. */
  tproxyMark: number;
  /** -r: routing table that sends marked packets to lo. */
  tproxyRouteTable: number;
  /** -b: inbound ports to capture. */
  inboundPortsInclude: Selection<number>;
  /** -d: inbound ports never captured (only meaningful with -b '*'). */
  inboundPortsExclude: number[];
  /** -q: outbound ports always captured. */
  outboundPortsInclude: number[];
  /** -o: outbound ports never captured. */
  outboundPortsExclude: number[];
  /** -i: outbound destinations to capture (CIDRs, v4 and v6 mixed). */
  outboundIpRangesInclude: Selection<string>;
  /** -x: outbound destinations never captured. */
  outboundIpRangesExclude: string[];
  /** -k: interfaces whose incoming traffic is treated as outbound (KubeVirt). */
  rerouteVirtualInterfaces: string[];
  /** -c: interfaces whose traffic is never touched. */
  excludeInterfaces: string[];
  /** --istio-outbound-owner-groups: only these groups' traffic is captured ('*' = all). */
  ownerGroupsInclude: Selection<string>;
  /** --istio-outbound-owner-groups-exclude: these groups' traffic is not captured. */
  ownerGroupsExclude: string[];
  /** --redirect-dns: send DNS (udp/tcp 53) to the proxy's DNS port. */
  redirectDns: boolean;
  /** --capture-all-dns: capture DNS to every server, not only the configured ones. */
  captureAllDns: boolean;
  /** DNS servers whose traffic is captured (from --dns-servers or /etc/resolv.conf). */
  dnsServersV4: string[];
  dnsServersV6: string[];
  /** The proxy's DNS listener (Istio's agent uses 15053). */
  dnsCapturePort: number;
  /** --drop-invalid: drop conntrack-INVALID packets instead of letting them reset connections. */
  dropInvalid: boolean;
  /** --host-ipv4-loopback-cidr: what counts as "localhost" for IPv4. */
  hostIpv4LoopbackCidr: string;
  /** Also write ip6tables rules (Trellis default: on, so IPv6 cannot bypass the proxy). */
  ipv6: boolean;
}

/** The proxy's own ports, excluded from inbound capture as Istio's injector does. */
export const PROXY_PORTS = [15090, 15021, 15020, 15000] as const;

/**
 * Defaults of `trellis iptables` with no flags: the values Istio's sidecar
 * injector passes to istio-init (capture everything in and out, except the
 * proxy's own ports), not istio-iptables' bare defaults (capture nothing).
 */
export function defaultCaptureConfig(): CaptureConfig {
  return {
    proxyPort: 15001,
    inboundCapturePort: 15006,
    inboundTunnelPort: 15008,
    proxyUids: ['1337'],
    proxyGids: ['1337'],
    inboundMode: 'REDIRECT',
    tproxyMark: 1337,
    tproxyRouteTable: 133,
    inboundPortsInclude: '*',
    inboundPortsExclude: [...PROXY_PORTS],
    outboundPortsInclude: [],
    outboundPortsExclude: [],
    outboundIpRangesInclude: '*',
    outboundIpRangesExclude: [],
    rerouteVirtualInterfaces: [],
    excludeInterfaces: [],
    ownerGroupsInclude: '*',
    ownerGroupsExclude: [],
    redirectDns: false,
    captureAllDns: false,
    dnsServersV4: [],
    dnsServersV6: [],
    dnsCapturePort: 15053,
    dropInvalid: false,
    hostIpv4LoopbackCidr: '127.0.0.1/32',
    ipv6: true,
  };
}
