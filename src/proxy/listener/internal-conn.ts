/**
 * What an internal listener knows about a connection handed to it in-process
 * (Envoy's internal listener with the original_dst listener filter): the
 * destination comes from the dynamic metadata the upstream's
 * internal_upstream transport socket passed through
 * (envoy.filters.listener.original_dst, key "local"), else from the shared
 * filter state envoy.filters.listener.original_dst.local_ip; the source from
 * ...remote_ip. Without the filter, or without either, the connection is to
 * the internal address itself (port 0: no ORIGINAL_DST host can be made of it).
 * Pure.
 */
import type { ConnContext } from './conn-context.js';
import type { ListenerPlan } from './listener-plan.js';
import { LOCAL_IP_KEY, ORIGINAL_DST_FILTER, REMOTE_IP_KEY, type InternalHandoff } from '../internal/filter-state.js';
import type { StateSource } from '../internal/set-filter-state.js';
import { parseHostPort } from '../../ztunnel/hbone/connect-request.js';

const INTERNAL_CLIENT = 'envoy://internal_client_address/';

export function internalConnContext(plan: ListenerPlan, h: InternalHandoff, internalAddress: string): ConnContext {
  const fromMetadata = h.metadata[ORIGINAL_DST_FILTER]?.local;
  const localText = typeof fromMetadata === 'string' ? fromMetadata : h.filterState?.get(LOCAL_IP_KEY)?.value;
  const local = plan.inspectors.originalDst && localText !== undefined ? parseHostPort(localText) : undefined;
  const remoteText = h.filterState?.get(REMOTE_IP_KEY)?.value;
  const remote = plan.inspectors.originalDst && remoteText !== undefined ? parseHostPort(remoteText) : undefined;
  return {
    originalDst: local ? { address: local.host, port: local.port } : { address: internalAddress, port: 0 },
    local: local ? localText! : internalAddress,
    remote: remote ? remoteText! : INTERNAL_CLIENT,
    remoteIp: remote?.host ?? '',
    inbound: plan.inbound,
    serverName: '',
    draining: false,
    protocol: undefined,
    filterState: h.filterState,
    metadata: h.metadata,
  };
}

/** What set_filter_state formats from on a connection (no request headers). */
export function connStateSource(conn: ConnContext): StateSource {
  return {
    header: () => undefined,
    downstreamLocal: conn.local,
    downstreamRemote: conn.remote,
    peerUriSan: conn.peerUriSan ?? '',
    localUriSan: conn.tls?.localUriSans()[0] ?? '',
    filterState: conn.filterState,
  };
}
