/**
 * Istio's resource names, so that istioctl habits and dashboards carry over:
 *   outbound|9080|v1|reviews.default.svc.cluster.local
 *   inbound|9080||
 */
export function outboundClusterName(port: number, subset: string | undefined, hostname: string): string {
  return `outbound|${port}|${subset ?? ''}|${hostname}`;
}

export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

export function parseClusterName(name: string): { direction: 'inbound' | 'outbound'; port: number; subset: string; hostname: string } | undefined {
  const parts = name.split('|');
  if (parts.length !== 4 || (parts[0] !== 'inbound' && parts[0] !== 'outbound')) return undefined;
  const port = Number(parts[1]);
  if (!Number.isInteger(port)) return undefined;
  return { direction: parts[0], port, subset: parts[2]!, hostname: parts[3]! };
}

export const VirtualOutbound = 'virtualOutbound';
export const VirtualInbound = 'virtualInbound';
export const BlackHoleCluster = 'BlackHoleCluster';
export const PassthroughCluster = 'PassthroughCluster';
export const InboundPassthroughCluster = 'InboundPassthroughCluster';
export const OutboundCapturePort = 15001;
export const InboundCapturePort = 15006;

/** Per-port outbound listener: "0.0.0.0_9080" for HTTP, "VIP_PORT" for TCP. */
export function outboundListenerName(address: string, port: number): string {
  return `${address}_${port}`;
}
