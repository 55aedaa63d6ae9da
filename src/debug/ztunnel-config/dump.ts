/**
 * A node proxy's /config_dump as istioctl's ztunnel-config reads it
 * (istioctl/pkg/writer/ztunnel/configdump/api.go): workloads, services,
 * policies and certificates, each a list or (older ztunnels) a map whose
 * values are the items. Only the fields the tables show are typed; -o
 * json|yaml prints the items as they came. Pure.
 */
import { TrellisError } from '../../errors.js';

export interface ZtunnelWorkload {
  uid?: string;
  workloadIps?: string[];
  waypoint?: { destination?: string };
  protocol?: string;
  name?: string;
  namespace?: string;
  node?: string;
  status?: string;
  hostname?: string;
}

export interface ZtunnelService {
  name?: string;
  namespace?: string;
  hostname?: string;
  vips?: string[];
  waypoint?: { destination?: string };
  endpoints?: Record<string, { workloadUid?: string } | null>;
}

export interface ZtunnelPolicy {
  name?: string;
  namespace?: string;
  action?: string;
  scope?: string;
}

export interface ZtunnelCert {
  serialNumber?: string;
  validFrom?: string;
  expirationTime?: string;
}

export interface ZtunnelCertificate {
  identity?: string;
  state?: string;
  certChain?: ZtunnelCert[];
  rootCerts?: ZtunnelCert[];
}

export interface ZtunnelDump {
  workloads: ZtunnelWorkload[];
  services: ZtunnelService[];
  policies: ZtunnelPolicy[];
  certificates: ZtunnelCertificate[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** istioctl's unmarshalListOrMap: absent is empty, an array as is, an object's values; anything else names the field. */
function listOrMap<T>(dump: Record<string, unknown>, field: string, where: string): T[] {
  const v = dump[field];
  if (v === undefined || v === null) return [];
  const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : undefined;
  if (items === undefined || !items.every(isObject)) throw new TrellisError('UNREACHABLE', `${where}: "${field}" is not a list (or map) of objects: not a node proxy's config dump`);
  return items as T[];
}

/** `raw` (a parsed /config_dump) as a ztunnel dump; `where` names its source in errors. */
export function parseZtunnelDump(raw: unknown, where: string): ZtunnelDump {
  if (!isObject(raw)) throw new TrellisError('UNREACHABLE', `${where}: the config dump is not a JSON object`);
  // An Envoy dump has "configs" and none of these: say so rather than print empty tables.
  if (!['workloads', 'services', 'policies', 'certificates'].some((f) => f in raw)) {
    throw new TrellisError('UNREACHABLE', `${where}: not a node proxy's config dump (no workloads, services, policies or certificates${'configs' in raw ? '; this is an Envoy config dump: use trellis proxy-config' : ''})`);
  }
  return {
    workloads: listOrMap(raw, 'workloads', where),
    services: listOrMap(raw, 'services', where),
    policies: listOrMap(raw, 'policies', where),
    certificates: listOrMap(raw, 'certificates', where),
  };
}
