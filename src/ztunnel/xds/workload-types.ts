/**
 * The two resource types of Istio's workload API for the shared xDS client
 * (src/proxy/xds-client): Address (WDS) and Authorization (WADS), both
 * wildcard (an empty first subscription, as ztunnel sends it). Each
 * resource is decoded and checked on its own; an invalid one is NACKed with
 * its field path and keeps its last good version.
 */
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { AddressSchema, TunnelProtocol, WorkloadStatus, type GatewayAddress, type Service, type Workload } from '../../gen/workloadapi/workload_pb.js';
import { AuthorizationSchema } from '../../gen/workloadapi/security/authorization_pb.js';
import { TypeUrl } from '../../xds/type-urls.js';
import type { Decoded, ResourceType } from '../../proxy/xds-client/resource-type.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compiled-policy.js';
import { ipFromBytes } from '../state/ip.js';
import type { AddressInfo, PortMapping, ServiceInfo, WaypointAddress, WorkloadInfo } from '../state/model.js';

function unpack<T>(any: Any, decode: () => T | undefined): { ok: true; value: T } | { ok: false; error: string } {
  try {
    const v = decode();
    return v === undefined ? { ok: false, error: `not a ${any.typeUrl}` } : { ok: true, value: v };
  } catch (err) {
    return { ok: false, error: `does not decode: ${(err as Error).message}` };
  }
}

function ips(list: readonly Uint8Array[], path: string, errors: string[]): string[] {
  return list.flatMap((b, i) => {
    const ip = ipFromBytes(b);
    if (ip === undefined) errors.push(`${path}[${i}]: ${b.length} bytes is not an IPv4 or IPv6 address`);
    return ip === undefined ? [] : [ip];
  });
}

const ports = (list: readonly { servicePort: number; targetPort: number }[]): PortMapping[] => list.map((p) => ({ servicePort: p.servicePort, targetPort: p.targetPort }));

/** A waypoint without a destination or port is an error, not "no waypoint": dropping it would bypass L7 policy. */
function waypointAddress(g: GatewayAddress | undefined, path: string, errors: string[]): WaypointAddress | undefined {
  if (!g) return undefined;
  if (!g.hboneMtlsPort) errors.push(`${path}.hbone_mtls_port: missing`);
  const d = g.destination;
  if (d.case === 'hostname') {
    if (!d.value.hostname) errors.push(`${path}.hostname.hostname: missing`);
    return { kind: 'hostname', namespace: d.value.namespace, hostname: d.value.hostname, port: g.hboneMtlsPort };
  }
  if (d.case === 'address') {
    const ip = ips([d.value.address], `${path}.address.address`, errors)[0];
    return ip === undefined ? undefined : { kind: 'address', ip, port: g.hboneMtlsPort };
  }
  errors.push(`${path}.destination: neither hostname nor address`);
  return undefined;
}

function workloadInfo(w: Workload, trustDomain: string, errors: string[]): WorkloadInfo {
  if (!w.uid) errors.push('workload.uid: missing');
  if (!w.namespace) errors.push('workload.namespace: missing');
  return {
    kind: 'workload',
    uid: w.uid,
    name: w.name,
    namespace: w.namespace,
    addresses: ips(w.addresses, 'workload.addresses', errors),
    serviceAccount: w.serviceAccount || 'default',
    trustDomain: w.trustDomain || trustDomain,
    node: w.node,
    hbone: w.tunnelProtocol === TunnelProtocol.HBONE,
    healthy: w.status === WorkloadStatus.HEALTHY,
    services: new Map(Object.entries(w.services).map(([k, v]) => [k, ports(v.ports)])),
    authorizationPolicies: [...w.authorizationPolicies],
    waypoint: waypointAddress(w.waypoint, 'workload.waypoint', errors),
    raw: w,
  };
}

function serviceInfo(s: Service, errors: string[]): ServiceInfo {
  if (!s.hostname) errors.push('service.hostname: missing');
  return {
    kind: 'service',
    key: `${s.namespace}/${s.hostname}`,
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    vips: ips(s.addresses.map((a) => a.address), 'service.addresses', errors),
    ports: ports(s.ports),
    waypoint: waypointAddress(s.waypoint, 'service.waypoint', errors),
    raw: s,
  };
}

/** The Address type; `trustDomain` fills in the one the control plane elides (the default). */
export function addressType(trustDomain: string): ResourceType<AddressInfo> {
  return {
    typeUrl: TypeUrl.Address,
    short: 'WDS',
    wildcard: true,
    decode(any: Any): Decoded<AddressInfo> {
      const u = unpack(any, () => anyUnpack(any, AddressSchema));
      if (!u.ok) return { ok: false, name: '', errors: [u.error] };
      const errors: string[] = [];
      const t = u.value.type;
      if (t.case === 'workload') {
        const w = workloadInfo(t.value, trustDomain, errors);
        return errors.length ? { ok: false, name: w.uid, errors } : { ok: true, name: w.uid, value: w };
      }
      if (t.case === 'service') {
        const s = serviceInfo(t.value, errors);
        return errors.length ? { ok: false, name: s.key, errors } : { ok: true, name: s.key, value: s };
      }
      return { ok: false, name: '', errors: ['type: neither workload nor service'] };
    },
  };
}

export const authorizationType: ResourceType<CompiledPolicy> = {
  typeUrl: TypeUrl.Authorization,
  short: 'WADS',
  wildcard: true,
  decode(any: Any): Decoded<CompiledPolicy> {
    const u = unpack(any, () => anyUnpack(any, AuthorizationSchema));
    if (!u.ok) return { ok: false, name: '', errors: [u.error] };
    const name = u.value.name ? `${u.value.namespace}/${u.value.name}` : '';
    const c = compilePolicy(u.value);
    return c.ok ? { ok: true, name, value: c.value } : { ok: false, name, errors: c.errors };
  },
};
