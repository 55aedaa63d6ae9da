import type { JsonValue } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import { NodeSchema, type Node } from '../gen/envoy/config/core/v3/base_pb.js';
import type { ProxyNode } from './proxy-node.js';

const types: ReadonlySet<string> = new Set(['sidecar', 'router', 'waypoint', 'ztunnel']);

function flatten(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function stringRecord(v: JsonValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = flatten(x);
  return out;
}

/**
 * Reads an xDS Node the way istiod does. Istio ids look like
 * "sidecar~10.1.2.3~reviews-v1-abc.default~default.svc.cluster.local";
 * anything else (gRPC clients pick arbitrary ids) keeps the id as pod name
 * and takes the namespace from metadata NAMESPACE, else "default".
 */
export function parseNode(node: Node): ProxyNode {
  const meta = node.metadata ?? {};
  const metadata = stringRecord(meta);
  const labels = stringRecord(meta['LABELS']);
  const parts = node.id.split('~');
  const istio = parts.length === 4 && types.has(parts[0]!);
  let podName = node.id;
  let namespace = 'default';
  let dnsDomain = '';
  const ips: string[] = [];
  if (istio) {
    const podNs = parts[2]!;
    const dot = podNs.lastIndexOf('.');
    podName = dot > 0 ? podNs.slice(0, dot) : podNs;
    if (dot > 0) namespace = podNs.slice(dot + 1);
    dnsDomain = parts[3]!;
    if (parts[1]) ips.push(parts[1]);
  }
  if (metadata['NAMESPACE']) namespace = metadata['NAMESPACE'];
  if (metadata['POD_NAME'] && !istio) podName = metadata['POD_NAME'];
  for (const ip of (metadata['INSTANCE_IPS'] ?? '').split(',').map((s) => s.trim())) if (ip && !ips.includes(ip)) ips.push(ip);
  if (!dnsDomain) dnsDomain = `${namespace}.svc.${metadata['DNS_DOMAIN'] || 'cluster.local'}`;
  return {
    id: node.id,
    type: istio ? (parts[0] as ProxyNode['type']) : 'sidecar',
    ipAddresses: ips,
    podName,
    namespace,
    dnsDomain,
    metadata,
    labels,
    generator: metadata['GENERATOR'] === 'grpc' ? 'grpc' : 'envoy',
  };
}

/** A ProxyNode from a bare node id (and optional metadata): for tests, benchmarks and tools. */
export function parseNodeId(id: string, metadata: Record<string, string> = {}): ProxyNode {
  return parseNode(create(NodeSchema, { id, metadata }));
}
