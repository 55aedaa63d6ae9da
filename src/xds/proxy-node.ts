/**
 * Who is on the other end of an xDS stream, read from the Node message the
 * way istiod reads it: id "TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN", and
 * metadata (ISTIO_META_* in pilot-agent, GENERATOR=grpc for proxyless gRPC).
 */
import type { LocalityParts } from './locality.js';

export interface ProxyNode {
  /** The full node id as sent. */
  id: string;
  type: 'sidecar' | 'router' | 'waypoint' | 'ztunnel';
  ipAddresses: string[];
  /** Pod name (without the namespace), or the id when it is not Istio-shaped. */
  podName: string;
  namespace: string;
  dnsDomain: string;
  /** String-valued node metadata (Struct values flattened to strings). */
  metadata: Readonly<Record<string, string>>;
  /** Workload labels from metadata LABELS, if the proxy sent them. */
  labels: Readonly<Record<string, string>>;
  /** 'grpc' for proxyless gRPC clients: API listeners instead of socket listeners. */
  generator: 'envoy' | 'grpc';
  /** Node.locality, when the proxy sent one (istiod prefers the registry's and the labels'). */
  locality?: LocalityParts;
  /** Node user_agent_name/version ("envoy/1.28.0", "grpc-node-js/1.14.7"), when sent. */
  userAgent?: string;
}
