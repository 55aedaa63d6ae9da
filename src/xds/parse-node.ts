import type { JsonValue } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import { NodeSchema, type Node } from '../gen/envoy/config/core/v3/base_pb.js';
import { TrellisError } from '../errors.js';
import { clip } from '../clip.js';
import { invalidNodeIdMessage, parseIstioNodeId } from './node-id.js';
import type { ProxyNode } from './proxy-node.js';

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
 * Reads an xDS Node the way istiod does: the id must be Istio's
 * "TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN" (see node-id.ts), or the node
 * is refused with a TrellisError XDS_INVALID_NODE whose message says what is
 * wrong and what is expected (the server sends it as INVALID_ARGUMENT). The
 * namespace is metadata NAMESPACE, else the one in POD.NAMESPACE, else the
 * first label of the domain, as istiod's GetProxyConfigNamespace falls back.
 */
export function parseNode(node: Node): ProxyNode {
  const meta = node.metadata ?? {};
  const metadata = stringRecord(meta);
  const parsed = parseIstioNodeId(node.id, metadata['INSTANCE_IPS']);
  if (!parsed.ok) throw new TrellisError('XDS_INVALID_NODE', invalidNodeIdMessage(node.id, parsed.problem));
  const { type, ips, podPart, dnsDomain } = parsed.id;
  const dot = podPart.lastIndexOf('.');
  const podName = dot > 0 ? podPart.slice(0, dot) : podPart;
  const domainLabels = dnsDomain.split('.');
  const idNamespace = dot > 0 ? podPart.slice(dot + 1) : domainLabels.length > 1 ? domainLabels[0]! : '';
  const namespace = metadata['NAMESPACE'] || idNamespace || 'default';
  return {
    id: node.id,
    type,
    ipAddresses: ips,
    podName,
    namespace,
    dnsDomain: dnsDomain || `${namespace}.svc.${metadata['DNS_DOMAIN'] || 'cluster.local'}`,
    metadata,
    labels: stringRecord(meta['LABELS']),
    generator: metadata['GENERATOR'] === 'grpc' ? 'grpc' : 'envoy',
    ...userAgent(node),
    ...locality(node),
  };
}

/** "name/version" from the node's user agent fields, clipped: both come from the peer. */
function userAgent(node: Node): { userAgent?: string } {
  const v = node.userAgentVersionType;
  const version = v.case === 'userAgentVersion' ? v.value : v.case === 'userAgentBuildVersion' && v.value.version ? `${v.value.version.majorNumber}.${v.value.version.minorNumber}.${v.value.version.patch}` : '';
  const text = [node.userAgentName, version].filter(Boolean).join('/');
  return text ? { userAgent: clip(text, 128) } : {};
}

/** Node.locality when any part is set; clipped like everything else the peer sends. */
function locality(node: Node): { locality?: ProxyNode['locality'] } {
  const l = node.locality;
  if (!l || (!l.region && !l.zone && !l.subZone)) return {};
  return { locality: { region: clip(l.region, 128), zone: clip(l.zone, 128), subZone: clip(l.subZone, 128) } };
}

/** A ProxyNode from a bare node id (and optional metadata): for tests, benchmarks and tools. */
export function parseNodeId(id: string, metadata: Record<string, string> = {}): ProxyNode {
  return parseNode(create(NodeSchema, { id, metadata }));
}
