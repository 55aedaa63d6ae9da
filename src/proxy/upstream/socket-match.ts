/**
 * A cluster's transport_socket_matches (Istio's auto-mTLS), Envoy's way: an
 * endpoint takes the transport socket of the first match whose `match` struct
 * is a subset of its filter_metadata["envoy.transport_socket_match"] (every
 * key present, every value equal); only if none matches on the endpoint's own
 * metadata are the matches tried again on its locality's; failing both, the
 * cluster's transport_socket applies (plaintext when unset). An empty `match`
 * matches every endpoint.
 */
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Metadata } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { TlsPlan } from '../tls/tls-plan.js';
import { compileUpstreamTransport, type InternalUpstreamPlan } from '../internal/internal-upstream.js';

export const SOCKET_MATCH_KEY = 'envoy.transport_socket_match';

export interface SocketMatch {
  name: string;
  match: JsonObject;
  /** undefined = plaintext (raw_buffer). */
  tls: TlsPlan | undefined;
  /** internal_upstream: the endpoint is an internal listener (istiod's "hbone" match on tunnel: http). */
  internal?: InternalUpstreamPlan | undefined;
}

export function compileSocketMatches(c: Cluster, errors: string[]): SocketMatch[] {
  return c.transportSocketMatches.map((m, i) => {
    const path = `transportSocketMatches[${i}]`;
    if (!m.name) errors.push(`${path}.name: missing`);
    if (!m.transportSocket) errors.push(`${path}.transportSocket: missing`);
    return { name: m.name, match: m.match ?? {}, ...compileUpstreamTransport(m.transportSocket, `${path}.transportSocket`, errors) };
  });
}

/** What an endpoint keeps of its metadata: only the struct transport socket matching reads. */
export function socketMatchMetadata(md: Metadata | undefined): JsonObject | undefined {
  return md?.filterMetadata[SOCKET_MATCH_KEY];
}

/**
 * The index of the match an endpoint uses, or -1 for the cluster's own transport socket.
 * `endpoint` and `locality` are the endpoint's and its locality's SOCKET_MATCH_KEY structs.
 */
export function resolveSocket(matches: readonly SocketMatch[], endpoint: JsonObject | undefined, locality: JsonObject | undefined): number {
  for (let i = 0; i < matches.length; i++) if (labelsMatch(matches[i].match, endpoint)) return i;
  for (let i = 0; i < matches.length; i++) if (labelsMatch(matches[i].match, locality)) return i;
  return -1;
}

/** Envoy's Metadata::metadataLabelMatch: every label present in the struct with an equal value. */
function labelsMatch(labels: JsonObject, md: JsonObject | undefined): boolean {
  for (const k of Object.keys(labels)) {
    if (!md || !Object.hasOwn(md, k) || !equal(labels[k], md[k])) return false;
  }
  return true;
}

/** Envoy's ValueUtil::equal: same kind, same value, structs and lists compared deeply. */
export function equal(a: JsonValue | undefined, b: JsonValue | undefined, depth = 0): boolean {
  if (depth > 64) return false;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i], depth + 1));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k], depth + 1));
}
