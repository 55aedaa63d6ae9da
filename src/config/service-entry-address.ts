/**
 * Addresses for ServiceEntry hosts that declare none, as Istio's address
 * auto-allocation gives them (istiod's ipallocate controller, written to the
 * entry's status.addresses): one IPv4 address from 240.240.0.0/16 and one
 * IPv6 address from 2001:2::/48 per host. istiod remembers its choice in the
 * status; Trellis has nowhere to remember it, so the choice is derived from
 * the host — every replica and restart computes the same addresses from the
 * same entries, as with cluster IPs (cluster-ip.ts): FNV-1a of
 * namespace/host into the range, a collision probing forward, hosts taken in
 * namespace/host order. A host keeps its address when others come and go
 * unless a newcomer collides on its probe path.
 */
import type { ServiceEntry } from './objects.js';
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
  for (const se of entries) {
    for (const a of se.spec.addresses ?? []) {
      const ip = parseIpv4(a.replace(/\/32$/, ''));
      if (ip !== undefined && ip >>> 16 === V4_BASE >>> 16) taken.add(ip - V4_BASE);
    }
    const ns = se.metadata.namespace ?? 'default';
    for (const h of autoAllocatedHosts(se)) keys.add(allocationKey(ns, h));
  }
  const out = new Map<string, AllocatedAddresses>();
  for (const key of [...keys].sort()) {
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
