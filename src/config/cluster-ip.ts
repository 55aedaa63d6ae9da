/**
 * Cluster IPs for Services that do not set one, as the API server assigns
 * them — but deterministically, because there is no API server to remember
 * the choice: every control plane replica, every restart and `trellis up`
 * (which routes the addresses) must arrive at the same IP from the same
 * config. A Service's IP is a hash of namespace/name into the service
 * range; a collision probes forward, in the order of namespace/name, so the
 * result depends only on the set of Services. A Service keeps its IP when
 * others come and go unless one of them collides with its probe path —
 * rare in a /16 with a few hundred Services.
 */
import { TrellisError } from '../errors.js';
import type { ConfigProblem } from './config-problem.js';
import type { AnyObject, Service } from './objects.js';

/** Kubernetes' kubeadm default is 10.96.0.0/12; the one-machine cluster routes a /16 of it. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';

export interface Ipv4Cidr {
  base: number;
  prefix: number;
  text: string;
}

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** An IPv4 range of at most /28 (a service range needs room); throws CONFIG_INVALID otherwise. */
export function parseServiceCidr(text: string): Ipv4Cidr {
  const [addr = '', len = ''] = text.split('/');
  const ip = parseIpv4(addr);
  const prefix = Number(len);
  if (ip === undefined || !/^\d+$/.test(len) || prefix < 8 || prefix > 28) {
    throw new TrellisError('CONFIG_INVALID', `service CIDR ${JSON.stringify(text)}: expected an IPv4 range from /8 to /28, e.g. ${DEFAULT_SERVICE_CIDR}`);
  }
  const mask = (~0 << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix, text };
}

export function cidrContains(c: Ipv4Cidr, ip: number): boolean {
  return ip >>> (32 - c.prefix) === c.base >>> (32 - c.prefix);
}

/** FNV-1a, 32 bits: small, stable across Node versions, well spread for short keys. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function needsIp(s: Service): boolean {
  const spec = s.spec ?? {};
  if (spec.type === 'ExternalName') return false;
  return !spec.clusterIP && !(spec.clusterIPs && spec.clusterIPs.length > 0);
}

/**
 * The objects with an IP set on every Service that lacks one (clusterIP and
 * clusterIPs, as the API server fills them), plus a problem for each Service
 * the range had no room for. Services with an IP, headless ("None") and
 * ExternalName ones are returned as they are; so is the map when nothing
 * needs an address.
 */
export function allocateClusterIps(objects: ReadonlyMap<string, AnyObject>, cidr: Ipv4Cidr): { objects: ReadonlyMap<string, AnyObject>; problems: ConfigProblem[] } {
  const pending: [string, Service][] = [];
  const taken = new Set<number>();
  for (const [key, o] of objects) {
    if (o.kind !== 'Service') continue;
    if (needsIp(o)) pending.push([key, o]);
    for (const ip of [o.spec?.clusterIP, ...(o.spec?.clusterIPs ?? [])]) {
      const n = ip ? parseIpv4(ip) : undefined;
      if (n !== undefined) taken.add(n);
    }
  }
  if (pending.length === 0) return { objects, problems: [] };
  const nsName = (s: Service) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
  pending.sort((a, b) => (nsName(a[1]) < nsName(b[1]) ? -1 : 1));
  // The network address, .1 (the `kubernetes` Service's, by convention) and the broadcast address are never handed out.
  const usable = 2 ** (32 - cidr.prefix) - 3;
  const out = new Map(objects);
  const problems: ConfigProblem[] = [];
  for (const [key, svc] of pending) {
    const start = fnv1a32(nsName(svc)) % usable;
    let ip: number | undefined;
    for (let i = 0; i < usable; i++) {
      const candidate = (cidr.base + 2 + ((start + i) % usable)) >>> 0;
      if (!taken.has(candidate)) {
        ip = candidate;
        break;
      }
    }
    if (ip === undefined) {
      problems.push({ code: 'CONFIG_INVALID', file: svc.origin?.file ?? '', line: svc.origin?.line ?? 0, reason: `Service ${nsName(svc)}: no free cluster IP left in ${cidr.text}` });
      continue;
    }
    taken.add(ip);
    const text = formatIpv4(ip);
    out.set(key, { ...svc, spec: { ...svc.spec, clusterIP: text, clusterIPs: [text] } });
  }
  return { objects: out, problems };
}
