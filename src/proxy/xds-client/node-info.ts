/**
 * The Node message the proxy announces on its ADS stream. Metadata comes from
 * ISTIO_META_* and TRELLIS_* environment variables, as pilot-agent does
 * (ISTIO_META_CLUSTER_ID → CLUSTER_ID); this is the only place the proxy
 * reads those variables.
 */
import { create } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import { LocalitySchema, NodeSchema, type Locality, type Node } from '../../gen/envoy/config/core/v3/base_pb.js';
import { localityFromLabels, splitLocality } from '../../xds/locality.js';

export function nodeMetadataFromEnv(environ: NodeJS.ProcessEnv = process.env): JsonObject {
  const md: JsonObject = {};
  for (const [k, v] of Object.entries(environ)) {
    if (v === undefined) continue;
    const key = k.startsWith('ISTIO_META_') ? k.slice('ISTIO_META_'.length) : k.startsWith('TRELLIS_META_') ? k.slice('TRELLIS_META_'.length) : undefined;
    if (!key) continue;
    md[key] = parseMaybeJson(v);
  }
  return md;
}

/** LABELS and similar values are JSON objects in pilot-agent's convention. */
function parseMaybeJson(v: string): JsonObject[string] {
  if (v.startsWith('{')) {
    try {
      return JSON.parse(v) as JsonObject;
    } catch {
      return v;
    }
  }
  return v;
}

export function buildNode(id: string, environ: NodeJS.ProcessEnv = process.env): Node {
  const metadata = nodeMetadataFromEnv(environ);
  const cluster = typeof metadata.CLUSTER_ID === 'string' ? metadata.CLUSTER_ID : 'Kubernetes';
  return create(NodeSchema, {
    id,
    cluster,
    metadata,
    userAgentName: 'trellis',
    userAgentVersionType: { case: 'userAgentVersion', value: '0.1.0' },
    locality: nodeLocality(metadata),
  });
}

/**
 * pilot-agent's node locality: from the workload's labels (istio-locality,
 * else the topology labels). istiod prefers what its registry knows of the
 * pod; this is what it falls back on. No client features: priorities and the
 * overprovisioning factor are honoured as Envoy honours them.
 */
function nodeLocality(metadata: JsonObject): Locality | undefined {
  const labels = metadata.LABELS;
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) return undefined;
  const text = localityFromLabels(Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string')));
  return text === undefined ? undefined : create(LocalitySchema, splitLocality(text));
}
