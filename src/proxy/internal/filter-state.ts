/**
 * Envoy's filter state, reduced to what crosses an internal connection:
 * string objects by key, each with how far it travels upstream. ONCE reaches
 * the next connection only (the internal listener that the request's
 * upstream connection lands on), TRANSITIVE every later one too, NONE stays
 * on this stream or connection. The objects Envoy's own filters read are the
 * original_dst listener filter's addresses (local_ip: the destination an
 * internal listener restores; remote_ip: the source).
 */
import type { JsonObject } from '@bufbuild/protobuf';

export type Sharing = 'none' | 'once' | 'transitive';

export interface FilterStateObject {
  value: string;
  sharing: Sharing;
}

export type FilterState = Map<string, FilterStateObject>;

/** envoy.filters.listener.original_dst's keys (the filter's FilterNames). */
export const ORIGINAL_DST_FILTER = 'envoy.filters.listener.original_dst';
export const LOCAL_IP_KEY = 'envoy.filters.listener.original_dst.local_ip';
export const REMOTE_IP_KEY = 'envoy.filters.listener.original_dst.remote_ip';
/** The HBONE peer's SPIFFE id, set by connect_terminate for the connections it opens (Istio's key). */
export const PEER_PRINCIPAL_KEY = 'io.istio.peer_principal';

/**
 * What an upstream connection opened now carries to the internal listener:
 * the shared objects, ONCE ones becoming NONE there. Later writes win over
 * earlier ones (a stream's objects over its connection's).
 */
export function sharedWithUpstream(...states: Array<FilterState | undefined>): FilterState | undefined {
  let out: FilterState | undefined;
  for (const s of states) {
    if (!s) continue;
    for (const [k, o] of s) {
      if (o.sharing === 'none') continue;
      out ??= new Map();
      out.set(k, { value: o.value, sharing: o.sharing === 'once' ? 'none' : 'transitive' });
    }
  }
  return out;
}

/**
 * What an internal listener is handed with a connection (Envoy: the
 * internal_upstream transport socket's passthrough metadata and the shared
 * filter state).
 */
export interface InternalHandoff {
  /** Dynamic metadata by filter name (passthrough_metadata from the host or cluster). */
  metadata: Record<string, JsonObject>;
  filterState: FilterState | undefined;
  /** The endpoint_id of the envoy_internal_address ('' when none). */
  endpointId: string;
}
