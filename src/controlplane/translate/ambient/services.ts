/** A Kubernetes Service as istiod sends it in the workload API (its Service message, resource name "NAMESPACE/HOSTNAME"). */
import { create } from '@bufbuild/protobuf';
import { AppProtocol, type GatewayAddress, NetworkAddressSchema, PortSchema, ServiceSchema, type Port, type Service } from '../../../gen/workloadapi/workload_pb.js';
import type { MeshService, Protocol } from '../../registry/model.js';
import { ipBytes } from './ip-bytes.js';

const appProtocols: Partial<Record<Protocol, AppProtocol>> = {
  HTTP: AppProtocol.HTTP11,
  HTTP2: AppProtocol.HTTP2,
  GRPC: AppProtocol.GRPC,
  HTTPS: AppProtocol.TLS,
  TLS: AppProtocol.TLS,
  TCP: AppProtocol.TCP,
};

export function serviceResourceName(namespace: string, hostname: string): string {
  return `${namespace}/${hostname}`;
}

/** Whether the workload API carries it: istiod leaves out ExternalName Services and (here) ServiceEntries. */
export function inWorkloadApi(svc: MeshService): boolean {
  return svc.origin === 'Service' && !svc.meshExternal;
}

/** A named targetPort is sent as 0: each workload's own port of that name is in its services map. */
export function servicePorts(svc: MeshService): Port[] {
  return svc.ports.map((p) =>
    create(PortSchema, { servicePort: p.port, targetPort: typeof p.targetPort === 'number' ? p.targetPort : 0, appProtocol: appProtocols[p.protocol] ?? AppProtocol.UNKNOWN }),
  );
}

/** `waypoint`: the one its traffic goes through (waypoints.ts). */
export function serviceMessage(svc: MeshService, waypoint?: GatewayAddress): Service {
  const vip = svc.vip === undefined ? undefined : ipBytes(svc.vip);
  return create(ServiceSchema, {
    name: svc.name,
    namespace: svc.namespace,
    hostname: svc.hostname,
    // Headless: no address; the workloads are reached by their own.
    addresses: vip ? [create(NetworkAddressSchema, { network: '', address: vip })] : [],
    ports: servicePorts(svc),
    ...(waypoint ? { waypoint } : {}),
    // A Kubernetes Service's hostname is its own: it wins lookups from other namespaces.
    canonical: true,
  });
}
