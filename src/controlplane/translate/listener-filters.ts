import { create } from '@bufbuild/protobuf';
import {
  ListenerFilterChainMatchPredicateSchema,
  ListenerFilterChainMatchPredicate_MatchSetSchema,
  ListenerFilterSchema,
  type FilterChain,
  type ListenerFilter,
  type ListenerFilterChainMatchPredicate,
} from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpInspectorSchema } from '../../gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { OriginalDstSchema } from '../../gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { TlsInspectorSchema } from '../../gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { Int32RangeSchema } from '../../gen/envoy/type/v3/range_pb.js';
import { typed } from './common.js';
import { FilterName } from './hcm.js';

export function originalDstListenerFilter(): ListenerFilter {
  return create(ListenerFilterSchema, { name: FilterName.originalDst, configType: { case: 'typedConfig', value: typed(OriginalDstSchema, {}) } });
}

/** istiod reads only the first 512 bytes for a ClientHello (Envoy's default buffer is 64 KiB). */
export function tlsInspectorListenerFilter(filterDisabled?: ListenerFilterChainMatchPredicate): ListenerFilter {
  return create(ListenerFilterSchema, {
    name: FilterName.tlsInspector,
    configType: { case: 'typedConfig', value: typed(TlsInspectorSchema, { initialReadBufferSize: 512 }) },
    filterDisabled,
  });
}

function httpInspectorListenerFilter(filterDisabled?: ListenerFilterChainMatchPredicate): ListenerFilter {
  return create(ListenerFilterSchema, { name: FilterName.httpInspector, configType: { case: 'typedConfig', value: typed(HttpInspectorSchema, {}) }, filterDisabled });
}

/** "destination port is one of these" ([p, p+1) ranges, OR-ed when more than one). */
function portsPredicate(ports: readonly number[]): ListenerFilterChainMatchPredicate {
  const ranges = ports.map((p) => create(ListenerFilterChainMatchPredicateSchema, {
    rule: { case: 'destinationPortRange', value: create(Int32RangeSchema, { start: p, end: p + 1 }) },
  }));
  if (ranges.length === 1) return ranges[0]!;
  return create(ListenerFilterChainMatchPredicateSchema, { rule: { case: 'orMatch', value: create(ListenerFilterChainMatchPredicate_MatchSetSchema, { rules: ranges }) } });
}

function notPredicate(p: ListenerFilterChainMatchPredicate): ListenerFilterChainMatchPredicate {
  return create(ListenerFilterChainMatchPredicateSchema, { rule: { case: 'notMatch', value: p } });
}

interface Inspectors {
  tls: boolean;
  http: boolean;
}

/**
 * The inspectors a capture listener needs, derived from its filter chains
 * as istiod's populateListenerFilters does: the TLS inspector where a chain
 * matches a transport protocol of "tls", the HTTP inspector where one matches
 * plaintext HTTP ALPN; each switched off (filter_disabled) for the ports that
 * need it not, so those connections start without waiting for bytes. Port 0
 * stands for chains without a destination port (passthrough).
 */
export function inspectorListenerFilters(chains: readonly FilterChain[]): ListenerFilter[] {
  const byPort = new Map<number, Inspectors>();
  for (const fc of chains) {
    const m = fc.filterChainMatch;
    const port = m?.destinationPort ?? 0;
    const i = byPort.get(port) ?? { tls: false, http: false };
    i.tls ||= m?.transportProtocol === 'tls';
    i.http ||= (m?.applicationProtocols ?? []).some((a) => a === 'http/1.1' || a === 'h2c');
    byPort.set(port, i);
  }
  const ports = [...byPort.keys()].sort((a, b) => a - b);
  const out: ListenerFilter[] = [];
  if (ports.some((p) => byPort.get(p)!.tls)) {
    const specific = ports.filter((p) => p !== 0);
    if (byPort.get(0)?.tls) {
      const off = specific.filter((p) => !byPort.get(p)!.tls);
      out.push(tlsInspectorListenerFilter(off.length ? portsPredicate(off) : undefined));
    } else {
      const on = specific.filter((p) => byPort.get(p)!.tls);
      out.push(tlsInspectorListenerFilter(on.length ? notPredicate(portsPredicate(on)) : undefined));
    }
  }
  // After the TLS inspector: once a connection is known to be TLS, the HTTP inspector leaves it alone.
  if (ports.some((p) => byPort.get(p)!.http)) {
    const off = ports.filter((p) => !byPort.get(p)!.http);
    out.push(httpInspectorListenerFilter(off.length ? portsPredicate(off) : undefined));
  }
  return out;
}
