/**
 * The node proxy's view of one Address resource, decoded and checked once
 * when it arrives (the raw message is kept for /config_dump): a workload
 * (a pod) or a service (its VIPs and ports).
 */
import type { Service, Workload } from '../../gen/workloadapi/workload_pb.js';

export interface PortMapping {
  servicePort: number;
  /** 0: the workload's own port of the service's named target port (its services map says which). */
  targetPort: number;
}

/**
 * The workload API's GatewayAddress of a waypoint: a hostname (a Service,
 * istiod's usual form) or an address (a workload IP or a service VIP), and
 * the HBONE port there.
 */
export type WaypointAddress =
  | { kind: 'hostname'; namespace: string; hostname: string; port: number }
  | { kind: 'address'; ip: string; port: number };

export interface WorkloadInfo {
  kind: 'workload';
  uid: string;
  name: string;
  namespace: string;
  addresses: string[];
  serviceAccount: string;
  /** The trust domain, the default filled in where the control plane elided it. */
  trustDomain: string;
  node: string;
  hbone: boolean;
  healthy: boolean;
  /** NAMESPACE/HOSTNAME → this workload's ports for that service. */
  services: ReadonlyMap<string, PortMapping[]>;
  authorizationPolicies: string[];
  /** Where traffic addressed to this workload's IP goes first. */
  waypoint?: WaypointAddress;
  raw: Workload;
}

export interface ServiceInfo {
  kind: 'service';
  /** NAMESPACE/HOSTNAME. */
  key: string;
  name: string;
  namespace: string;
  hostname: string;
  vips: string[];
  ports: PortMapping[];
  /** Where traffic addressed to this service's VIPs goes first. */
  waypoint?: WaypointAddress;
  raw: Service;
}

export type AddressInfo = WorkloadInfo | ServiceInfo;

/** Istio's SPIFFE id of a workload: spiffe://TD/ns/NS/sa/SA. */
export const workloadIdentity = (w: Pick<WorkloadInfo, 'trustDomain' | 'namespace' | 'serviceAccount'>): string =>
  `spiffe://${w.trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`;
