/**
 * An ORIGINAL_DST cluster's original_dst_lb_config, as Envoy's original
 * destination load balancer reads it: the address comes from the request's
 * HTTP header (use_http_header, x-envoy-original-dst-host unless renamed),
 * else from dynamic metadata at metadata_key (istiod: the waypoint to use
 * instead of the destination pod), else from the connection's original
 * destination; upstream_port_override then replaces its port (istiod: 15008,
 * HBONE). Pure.
 */
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { parseHostPort, type Destination } from '../../ztunnel/hbone/connect-request.js';

export interface OriginalDstLb {
  portOverride: number | undefined;
  /** The header carrying IP:port, when use_http_header. */
  header: string | undefined;
  /** metadata_key: namespace and the path of keys inside it. */
  metadataKey: { key: string; path: string[] } | undefined;
}

export const DEFAULT_DST_HEADER = 'x-envoy-original-dst-host';

export function compileOriginalDstLb(c: Cluster, originalDst: boolean, errors: string[]): OriginalDstLb | undefined {
  const lb = c.lbConfig.case === 'originalDstLbConfig' ? c.lbConfig.value : undefined;
  if (!lb) return undefined;
  const path = 'lbConfig.originalDstLbConfig';
  if (!originalDst) errors.push(`${path}: only for ORIGINAL_DST clusters`);
  const po = lb.upstreamPortOverride;
  if (po !== undefined && (po < 1 || po > 65535)) errors.push(`${path}.upstreamPortOverride: ${po} is not a port`);
  const mk = lb.metadataKey;
  const segments = mk?.path.map((s, i) => {
    if (s.segment.case !== 'key') errors.push(`${path}.metadataKey.path[${i}]: missing key`);
    return s.segment.value ?? '';
  });
  if (mk && !mk.key) errors.push(`${path}.metadataKey.key: missing`);
  return {
    portOverride: po,
    header: lb.useHttpHeader ? (lb.httpHeaderName || DEFAULT_DST_HEADER).toLowerCase() : undefined,
    metadataKey: mk ? { key: mk.key, path: segments ?? [] } : undefined,
  };
}

/** A string value at `path` inside `ns`, or undefined. */
function lookup(ns: JsonObject | undefined, path: readonly string[]): string | undefined {
  let v: JsonValue | undefined = ns;
  for (const k of path) v = v && typeof v === 'object' && !Array.isArray(v) ? v[k] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export interface DstSources {
  /** The connection's original destination (restored by original_dst). */
  local: { address: string; port: number };
  header?: (name: string) => string | undefined;
  /** Dynamic metadata by namespace (the request's first, then the connection's). */
  metadata?: ReadonlyArray<Record<string, JsonObject> | undefined>;
}

/** The endpoint an ORIGINAL_DST cluster connects to for this request or connection. */
export function originalDstTarget(lb: OriginalDstLb | undefined, src: DstSources): Destination | undefined {
  let dst: Destination | undefined;
  if (lb?.header && src.header) {
    const v = src.header(lb.header);
    // A header that is there but not IP:port is no destination: Envoy gives up rather than fall back.
    if (v !== undefined) dst = parseHostPort(v);
    if (v !== undefined && !dst) return undefined;
  }
  if (!dst && lb?.metadataKey) {
    const { key, path } = lb.metadataKey;
    for (const md of src.metadata ?? []) {
      const v = lookup(md?.[key], path);
      if (v !== undefined) {
        dst = parseHostPort(v);
        break;
      }
    }
  }
  dst ??= src.local.port ? { host: src.local.address, port: src.local.port } : undefined;
  if (!dst) return undefined;
  return lb?.portOverride !== undefined ? { host: dst.host, port: lb.portOverride } : dst;
}
