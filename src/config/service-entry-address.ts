/**
 * Addresses for ServiceEntry hosts that declare none, as Istio's address
 * auto-allocation gives them (istiod's ipallocate controller, written to the
 * entry's status.addresses): one IPv4 address from 240.240.0.0/16 and one
 * IPv6 address from 2001:2::/48 per host. istiod remembers its choice in the
 * status; Trellis keeps what a status already holds and otherwise, with
 * nowhere to remember a choice, derives it from the host — every replica
 * and restart computes the same addresses from the same entries, as with
 * cluster IPs (cluster-ip.ts): FNV-1a of
 * namespace/host into the range, a collision probing forward, hosts taken in
 * namespace/host order. A host keeps its address when others come and go
 * unless a newcomer collides on its probe path.
 */
import type { ServiceEntry } from './objects.js';
import { isIPv4, isIPv6 } from 'node:net';
import { fnv1a32, formatIpv4, parseIpv4 } from './cluster-ip.js';

/** Istio's ranges: the reserved class E block and the IPv6 benchmarking block. */
export const AUTO_ALLOCATE_V4_BASE = '240.240.0.0';
export const AUTO_ALLOCATE_V6_PREFIX = '2001:2::';
/** The label with which a ServiceEntry opts out ("false"), as in Istio. */
export const AUTO_ALLOCATE_LABEL = 'networking.istio.io/enable-autoallocate-ip';

const V4_BASE = parseIpv4(AUTO_ALLOCATE_V4_BASE)!;
/** Offsets 1 … 65534: the network and broadcast addresses of the /16 are never handed out. */
const USABLE = 2 ** 16 - 2;

export interface AllocatedAddresses {
  v4: string;
  v6: string;
}

/** "namespace/host", the allocation's key. */
export function allocationKey(namespace: string, host: string): string {
  return `${namespace}/${host}`;
}

/**
 * Istio's rule (ShouldV2AutoAllocateIP): no addresses of its own, a
 * resolution other than NONE (the proxy could not know the address the app
 * asked for), not opted out by label; then every host but wildcards.
 */
export function autoAllocatedHosts(se: ServiceEntry): string[] {
  const spec = se.spec;
  if ((spec.addresses ?? []).length > 0) return [];
  if ((spec.resolution ?? 'NONE') === 'NONE') return [];
  if ((se.metadata.labels?.[AUTO_ALLOCATE_LABEL] ?? '').toLowerCase() === 'false') return [];
  return (spec.hosts ?? []).filter((h) => !h.startsWith('*'));
}

/**
 * What istiod already allocated, from the entry's status.addresses (a
 * cluster where istiod ran, read by the Kubernetes source, or YAML exported
 * from one): those addresses are kept rather than derived anew, so proxies
 * of both agree. Only hosts with both families are taken.
 */
function statusAddresses(se: ServiceEntry): Map<string, AllocatedAddresses> {
  const out = new Map<string, Partial<AllocatedAddresses>>();
  const list = (se as { status?: { addresses?: Array<{ host?: string; value?: string }> } }).status?.addresses;
  for (const a of Array.isArray(list) ? list : []) {
    if (typeof a?.host !== 'string' || typeof a.value !== 'string') continue;
    const e = out.get(a.host) ?? {};
    if (isIPv4(a.value)) e.v4 ??= a.value;
    else if (isIPv6(a.value)) e.v6 ??= a.value;
    out.set(a.host, e);
  }
  return new Map([...out].filter((x): x is [string, AllocatedAddresses] => x[1].v4 !== undefined && x[1].v6 !== undefined));
}

/** The IPv6 address of an offset: 2001:2::OFFSET, the same offset as the IPv4 one (the /48 has room for far more). */
function v6Of(offset: number): string {
  return `${AUTO_ALLOCATE_V6_PREFIX}${offset.toString(16)}`;
}

/**
 * Addresses for every host that gets one (autoAllocatedHosts), by
 * allocationKey. Addresses of the range that entries declare themselves are
 * never handed out. Pure: depends only on the set of entries. A range with no
 * room left (65,534 hosts) leaves the rest without, as Istio does.
 */
export function allocateServiceEntryAddresses(entries: readonly ServiceEntry[]): ReadonlyMap<string, AllocatedAddresses> {
  const taken = new Set<number>();
  const keys = new Set<string>();
  const out = new Map<string, AllocatedAddresses>();
  const take = (a: string) => {
    const ip = parseIpv4(a.replace(/\/32$/, ''));
    if (ip !== undefined && ip >>> 16 === V4_BASE >>> 16) taken.add(ip - V4_BASE);
  };
  for (const se of entries) {
    for (const a of se.spec.addresses ?? []) take(a);
    const ns = se.metadata.namespace ?? 'default';
    const given = statusAddresses(se);
    for (const h of autoAllocatedHosts(se)) {
      const key = allocationKey(ns, h);
      const kept = given.get(h);
      if (kept) {
        take(kept.v4);
        out.set(key, kept);
      } else keys.add(key);
    }
  }
  for (const key of [...keys].sort()) {
    if (out.has(key)) continue;
    const start = fnv1a32(key) % USABLE;
    for (let i = 0; i < USABLE; i++) {
      const offset = 1 + ((start + i) % USABLE);
      if (taken.has(offset)) continue;
      taken.add(offset);
      out.set(key, { v4: formatIpv4((V4_BASE + offset) >>> 0), v6: v6Of(offset) });
      break;
    }
  }
  return out;
}
