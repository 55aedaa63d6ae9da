/**
 * A listener's listener_filters, which decide what filter chain matching can
 * see: tls_inspector sets the transport protocol "tls", the SNI and the ALPN
 * list of a ClientHello; http_inspector sets "http/1.0", "http/1.1" or "h2c"
 * as the application protocol of plaintext HTTP. Without them a connection is
 * "raw_buffer" with no server name and no application protocols, as in Envoy
 * (which stopped injecting a TLS inspector it was not given). filter_disabled
 * predicates turn an inspector off per destination port, as istiod's
 * virtualInbound does for ports whose protocol it knows.
 */
import type { ListenerFilter, ListenerFilterChainMatchPredicate } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';

/** For a destination port: whether the inspector runs. undefined = not configured. */
export type PortPredicate = (port: number) => boolean;

export interface Inspectors {
  tls: PortPredicate | undefined;
  http: PortPredicate | undefined;
  /** envoy.filters.listener.original_dst is listed: an internal listener restores the destination it was handed. */
  originalDst: boolean;
}

const TLS_INSPECTOR = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
const HTTP_INSPECTOR = 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector';
const ORIGINAL_DST = 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst';
const MAX_DEPTH = 32;
const enabled: PortPredicate = () => true;

export function compileListenerFilters(filters: readonly ListenerFilter[], path: string, errors: string[]): Inspectors {
  const out: Inspectors = { tls: undefined, http: undefined, originalDst: false };
  filters.forEach((f, i) => {
    const p = `${path}[${i}]`;
    const type = f.configType.case === 'typedConfig' ? f.configType.value.typeUrl : undefined;
    if (type === undefined) {
      errors.push(`${p}.typedConfig: missing (${f.configType.case ?? 'no config'} is not supported)`);
      return;
    }
    const disabled = f.filterDisabled ? compilePredicate(f.filterDisabled, `${p}.filterDisabled`, errors, 0) : undefined;
    const runs: PortPredicate = disabled ? (port) => !disabled(port) : enabled;
    // The original destination is always read (listener/original-dst.ts); use_original_dst decides the hand-off.
    if (type === ORIGINAL_DST) return void (out.originalDst = true);
    if (type === TLS_INSPECTOR) out.tls = runs;
    else if (type === HTTP_INSPECTOR) out.http = runs;
    else errors.push(`${p}: unsupported listener filter ${f.name} (${type})`);
  });
  return out;
}

/** Envoy's ListenerFilterChainMatchPredicate over what is known before any byte: the destination port. */
function compilePredicate(m: ListenerFilterChainMatchPredicate, path: string, errors: string[], depth: number): PortPredicate {
  if (depth > MAX_DEPTH) {
    errors.push(`${path}: nested deeper than ${MAX_DEPTH}`);
    return () => false;
  }
  const r = m.rule;
  const subs = (rules: ListenerFilterChainMatchPredicate[], at: string) => rules.map((x, i) => compilePredicate(x, `${at}[${i}]`, errors, depth + 1));
  switch (r.case) {
    case 'orMatch': {
      const ps = subs(r.value.rules, `${path}.orMatch.rules`);
      if (ps.length < 2) errors.push(`${path}.orMatch.rules: needs at least two rules`);
      return (port) => ps.some((x) => x(port));
    }
    case 'andMatch': {
      const ps = subs(r.value.rules, `${path}.andMatch.rules`);
      if (ps.length < 2) errors.push(`${path}.andMatch.rules: needs at least two rules`);
      return (port) => ps.every((x) => x(port));
    }
    case 'notMatch': {
      const p = compilePredicate(r.value, `${path}.notMatch`, errors, depth + 1);
      return (port) => !p(port);
    }
    case 'anyMatch': return () => true;
    case 'destinationPortRange': {
      const { start, end } = r.value;
      return (port) => start <= port && port < end;
    }
    default:
      errors.push(`${path}: unsupported or missing rule (${r.case ?? 'unset'})`);
      return () => false;
  }
}
