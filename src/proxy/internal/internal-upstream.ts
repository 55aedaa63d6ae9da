/**
 * The upstream side of an internal listener: a cluster endpoint whose address
 * is an envoy_internal_address, and the transport socket that must carry it,
 * envoy.transport_sockets.internal_upstream. That socket copies the metadata
 * its passthrough_metadata names (from the host — the endpoint — or the
 * cluster) into the internal connection's dynamic metadata, where the
 * internal listener's original_dst filter finds "local" (istiod puts the
 * workload's IP:port there). Its inner transport socket must be plaintext:
 * TLS inside an internal connection is not implemented and is refused.
 */
import type { JsonObject } from '@bufbuild/protobuf';
import type { TransportSocket } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { Address } from '../../gen/envoy/config/core/v3/address_pb.js';
import { InternalUpstreamTransportSchema } from '../../gen/envoy/extensions/transport_sockets/internal_upstream/v3/internal_upstream_pb.js';
import { unpackTyped } from '../util.js';
import { compileUpstreamTls, type TlsPlan } from '../tls/tls-plan.js';
import type { FilterState, InternalHandoff } from './filter-state.js';

const INTERNAL_UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport';

export interface InternalUpstreamPlan {
  /** Metadata namespaces copied into the internal connection, each from the host or the cluster. */
  passthrough: Array<{ from: 'host' | 'cluster'; name: string }>;
}

/** A transport socket: TLS (or plaintext), or internal_upstream around plaintext. */
export interface UpstreamTransport {
  tls: TlsPlan | undefined;
  internal: InternalUpstreamPlan | undefined;
}

export function compileUpstreamTransport(ts: TransportSocket | undefined, path: string, errors: string[]): UpstreamTransport {
  const c = ts?.configType;
  if (c?.case !== 'typedConfig' || c.value.typeUrl !== INTERNAL_UPSTREAM) return { tls: compileUpstreamTls(ts, path, errors), internal: undefined };
  const p = `${path}.typedConfig`;
  const t = unpackTyped(c.value, InternalUpstreamTransportSchema, path, errors);
  if (!t) return { tls: undefined, internal: undefined };
  const passthrough: InternalUpstreamPlan['passthrough'] = [];
  t.passthroughMetadata.forEach((m, i) => {
    const kind = m.kind?.kind.case;
    if (kind !== 'host' && kind !== 'cluster') errors.push(`${p}.passthroughMetadata[${i}].kind: ${kind ?? 'unset'} is not supported (host, cluster)`);
    else if (!m.name) errors.push(`${p}.passthroughMetadata[${i}].name: missing`);
    else passthrough.push({ from: kind, name: m.name });
  });
  const inner = compileUpstreamTls(t.transportSocket, `${p}.transportSocket`, errors);
  if (inner) errors.push(`${p}.transportSocket: TLS inside an internal connection is not supported (raw_buffer only)`);
  return { tls: undefined, internal: { passthrough } };
}

/** An envoy_internal_address endpoint: the listener it names and its endpoint_id. */
export function internalAddress(a: Address | undefined): { listener: string; endpointId: string } | undefined {
  if (a?.address.case !== 'envoyInternalAddress') return undefined;
  const v = a.address.value;
  return v.addressNameSpecifier.case === 'serverListenerName' ? { listener: v.addressNameSpecifier.value, endpointId: v.endpointId } : undefined;
}

/** What the internal listener gets with a new connection from `host` of a cluster. */
export function handoff(
  plan: InternalUpstreamPlan | undefined, endpointId: string,
  hostMetadata: Record<string, JsonObject> | undefined, clusterMetadata: Record<string, JsonObject> | undefined,
  filterState: FilterState | undefined,
): InternalHandoff {
  const metadata: Record<string, JsonObject> = {};
  for (const m of plan?.passthrough ?? []) {
    const v = (m.from === 'host' ? hostMetadata : clusterMetadata)?.[m.name];
    // Later sources add to (and override keys of) earlier ones for the same namespace, as Envoy merges them.
    if (v) metadata[m.name] = { ...metadata[m.name], ...v };
  }
  return { metadata, filterState, endpointId };
}

/** Opens an in-process connection to the internal listener `listener`, or says why it cannot (no such listener). */
export type InternalDialer = (listener: string, h: InternalHandoff) => import('node:net').Socket | Error;
