import type { AnyObject } from '../../src/config/objects.js';

export interface MeshSize {
  namespaces: number;
  services: number;
  endpointsPerService: number;
}

/**
 * A synthetic mesh for benchmarks: `services` spread over `namespaces`, each
 * with an HTTP port and a gRPC port, an EndpointSlice of `endpointsPerService`
 * endpoints (labels version v1/v2 alternating), a DestinationRule with two
 * subsets, and a 90/10 VirtualService on every second service. Addresses are
 * in 10.0.0.0/8 but nothing ever connects to them: they are data.
 */
export function syntheticMesh(size: MeshSize): AnyObject[] {
  const out: AnyObject[] = [];
  for (let n = 0; n < size.namespaces; n++) {
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}` }, spec: {} });
  }
  for (let s = 0; s < size.services; s++) {
    const ns = `ns-${s % size.namespaces}`;
    const name = `svc-${s}`;
    const vip = `10.96.${Math.floor(s / 250)}.${(s % 250) + 1}`;
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, labels: { app: name } },
      spec: {
        clusterIP: vip,
        selector: { app: name },
        ports: meshPorts.map((p) => ({ ...p, targetPort: p.port })),
      },
    });
    out.push(endpointSlice(s, ns, size.endpointsPerService, size.endpointsPerService));
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name, namespace: ns },
      spec: {
        host: `${name}.${ns}.svc.cluster.local`,
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
        ],
      },
    });
    if (s % 2 === 0) out.push(splitVirtualService(name, ns, 90));
  }
  return out;
}

export function splitVirtualService(name: string, ns: string, v1Weight: number): AnyObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: ns },
    spec: {
      hosts: [name],
      http: [
        {
          route: [
            { destination: { host: name, subset: 'v1' }, weight: v1Weight },
            { destination: { host: name, subset: 'v2' }, weight: 100 - v1Weight },
          ],
        },
      ],
    },
  };
}

/**
 * Service number `s`'s EndpointSlice with `count` endpoints (version v1/v2
 * alternating); addresses are unique per (service, index) for indexes below
 * `stride`, the mesh's endpoints per service, and one more.
 */
export function endpointSlice(s: number, ns: string, count: number, stride: number): AnyObject {
  const endpoints = Array.from({ length: count }, (_, e) => ({ address: endpointAddress(s * (stride + 1) + e), ready: true, pod: `svc-${s}-${e}` }));
  return endpointSliceOf(s, ns, endpoints);
}

/** One endpoint of a synthetic EndpointSlice: its address, readiness, and the (absent) pod it names. */
export interface SliceEndpoint {
  address: string;
  ready: boolean;
  pod: string;
}

/** The address numbered `idx` in 10.1.0.0 upwards: unique for idx below 2^24 - 2^16. */
export function endpointAddress(idx: number): string {
  return `10.${Math.floor(idx / 65536) + 1}.${Math.floor(idx / 256) % 256}.${idx % 256}`;
}

/** Service number `s`'s EndpointSlice holding exactly `endpoints`, on the mesh's two ports. */
export function endpointSliceOf(s: number, ns: string, endpoints: readonly SliceEndpoint[]): AnyObject {
  const name = `svc-${s}`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
    spec: undefined,
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.address], conditions: { ready: e.ready }, targetRef: { kind: 'Pod', name: e.pod, namespace: ns } })),
    ports: meshPorts.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP' })),
  };
}

/** Every synthetic service's ports (service port = target port). */
export const meshPorts: readonly { name: string; port: number }[] = [
  { name: 'http', port: 9080 },
  { name: 'grpc', port: 9090 },
];
