/**
 * The DNS part of a STRICT_DNS / LOGICAL_DNS Cluster, validated and compiled
 * (pure): which names to resolve (the load_assignment's socket addresses),
 * the address family, how often, and which DNS servers to ask.
 */
import { Cluster_DnsLookupFamily as Family, type Cluster } from '../../../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Address } from '../../../gen/envoy/config/core/v3/address_pb.js';
import { CaresDnsResolverConfigSchema } from '../../../gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import { durationMs, unpackTyped } from '../../util.js';
import type { EndpointSpec } from '../cluster-plan.js';

export type LookupFamily = 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';

export interface DnsPlan {
  /** One per lb_endpoint: `address` is the name to resolve (or an IP literal); port, weight, health and metadata go to every address it resolves to. */
  targets: EndpointSpec[];
  family: LookupFamily;
  /** dns_refresh_rate (Envoy's default 5 s). */
  refreshMs: number;
  /** respect_dns_ttl: the next resolution after the records' smallest TTL instead (a TTL of 0 keeps refreshMs). */
  respectTtl: boolean;
  /** dns_failure_refresh_rate: after a failure, base doubling up to max; undefined = refreshMs. */
  failureRefresh: { baseMs: number; maxMs: number } | undefined;
  /** DNS servers as node:dns takes them ("127.0.0.1:5353", "[::1]:53"); empty = the system's (/etc/resolv.conf). */
  servers: string[];
  /** use_resolvers_as_fallback: `servers` only when the system has none. */
  serversAsFallback: boolean;
}

const DEFAULT_REFRESH_MS = 5000;
const CARES = 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig';

const FAMILIES: Record<number, LookupFamily> = {
  [Family.AUTO]: 'AUTO', [Family.V4_ONLY]: 'V4_ONLY', [Family.V6_ONLY]: 'V6_ONLY', [Family.V4_PREFERRED]: 'V4_PREFERRED', [Family.ALL]: 'ALL',
};

export function compileDns(c: Cluster, logical: boolean, targets: EndpointSpec[], errors: string[]): DnsPlan {
  // Envoy's own check: a logical DNS cluster is one name, one host.
  if (logical && (c.loadAssignment?.endpoints.length !== 1 || c.loadAssignment.endpoints[0]!.lbEndpoints.length !== 1)) {
    errors.push('loadAssignment: LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint');
  }
  const family = FAMILIES[c.dnsLookupFamily];
  if (!family) errors.push(`dnsLookupFamily: unknown value ${c.dnsLookupFamily}`);
  const refreshMs = positiveMs(c.dnsRefreshRate, 'dnsRefreshRate', errors) ?? DEFAULT_REFRESH_MS;
  let failureRefresh: DnsPlan['failureRefresh'];
  if (c.dnsFailureRefreshRate) {
    const baseMs = positiveMs(c.dnsFailureRefreshRate.baseInterval, 'dnsFailureRefreshRate.baseInterval', errors);
    if (baseMs === undefined) errors.push('dnsFailureRefreshRate.baseInterval: missing');
    const maxMs = positiveMs(c.dnsFailureRefreshRate.maxInterval, 'dnsFailureRefreshRate.maxInterval', errors) ?? (baseMs ?? 0) * 10;
    if (baseMs !== undefined && maxMs < baseMs) errors.push('dnsFailureRefreshRate.maxInterval: must not be less than baseInterval');
    failureRefresh = { baseMs: baseMs ?? 0, maxMs };
  }
  const { servers, fallback } = resolvers(c, errors);
  return { targets, family: family ?? 'AUTO', refreshMs, respectTtl: c.respectDnsTtl, failureRefresh, servers, serversAsFallback: fallback };
}

function positiveMs(d: Parameters<typeof durationMs>[0], path: string, errors: string[]): number | undefined {
  const ms = durationMs(d);
  if (ms !== undefined && ms < 1) errors.push(`${path}: must be at least 1ms`);
  return ms;
}

/** typed_dns_resolver_config (c-ares with `resolvers`), else the deprecated dns_resolvers. */
function resolvers(c: Cluster, errors: string[]): { servers: string[]; fallback: boolean } {
  const typed = c.typedDnsResolverConfig;
  if (typed?.typedConfig) {
    const path = 'typedDnsResolverConfig';
    if (typed.typedConfig.typeUrl !== CARES) {
      errors.push(`${path}: unsupported DNS resolver ${typed.typedConfig.typeUrl.replace(/^.*\//, '')} (supported: envoy.network.dns_resolver.cares)`);
      return { servers: [], fallback: false };
    }
    const cares = unpackTyped(typed.typedConfig, CaresDnsResolverConfigSchema, path, errors);
    return { servers: serverList(cares?.resolvers ?? [], `${path}.typedConfig.resolvers`, errors), fallback: cares?.useResolversAsFallback ?? false };
  }
  return { servers: serverList(c.dnsResolvers, 'dnsResolvers', errors), fallback: false };
}

function serverList(addresses: Address[], path: string, errors: string[]): string[] {
  return addresses.flatMap((a, i) => {
    if (a.address.case !== 'socketAddress' || !a.address.value.address) {
      errors.push(`${path}[${i}].socketAddress.address: missing`);
      return [];
    }
    const { address, portSpecifier } = a.address.value;
    // c-ares takes port 0 as its default, 53.
    const port = portSpecifier.case === 'portValue' && portSpecifier.value !== 0 ? portSpecifier.value : 53;
    return [address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`];
  });
}
