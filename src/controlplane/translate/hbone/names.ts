/**
 * istiod's names for HBONE in Envoy config (pilot/pkg/networking/core/waypoint.go),
 * shared by the waypoint and by sidecars that speak HBONE.
 */
export const ConnectTerminate = 'connect_terminate';
export const MainInternal = 'main_internal';
export const ConnectOriginate = 'connect_originate';
export const HbonePort = 15008;
/** Endpoint metadata (and filter state prefix) the original_dst listener filter reads on an internal listener. */
export const OriginalDstMetadataKey = 'envoy.filters.listener.original_dst';
export const OriginalDstLocalIp = 'envoy.filters.listener.original_dst.local_ip';
export const OriginalDstRemoteIp = 'envoy.filters.listener.original_dst.remote_ip';
/** transport_socket_matches key istiod writes on endpoints reached over HBONE, and its value. */
export const TunnelMatchKey = 'tunnel';
export const TunnelHttp = 'http';

/** A waypoint's cluster for a service it serves: inbound-vip|PORT|http|HOST, inbound-vip|PORT|http/SUBSET|HOST, and tcp. */
export function inboundVipClusterName(port: number, kind: 'http' | 'tcp', subset: string | undefined, hostname: string): string {
  return `inbound-vip|${port}|${subset ? `${kind}/${subset}` : kind}|${hostname}`;
}
