/** Validates an LDS Listener and compiles its filter chains (HCM or TCP proxy) once, at config time. */
import type { Any } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { createHash } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { FilterChainSchema, type FilterChain } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../../gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { compileNetworkRbac, type RbacFilterPlan } from '../filters/rbac/rbac-filter.js';
import { compileListenerFilters, type Inspectors } from './listener-filters.js';
import { socketAddress } from '../upstream/cluster-plan.js';
import { compileHcm, type HcmPlan } from '../codec/hcm-plan.js';
import { compileTcpProxy, type TcpPlan } from '../tcp/tcp-plan.js';
import { durationMs, unpackTyped } from '../util.js';
import { compileMatch, type CompiledMatch } from './chain-match.js';
import { compileDownstreamTls, type TlsPlan } from '../tls/tls-plan.js';
import { ConfigSchema as NetworkSetFilterStateSchema } from '../../gen/envoy/extensions/filters/network/set_filter_state/v3/set_filter_state_pb.js';
import { compileSetFilterState, type FilterStateSetter } from '../internal/set-filter-state.js';

export type NetworkPlan = { kind: 'http'; hcm: HcmPlan } | { kind: 'tcp'; tcp: TcpPlan } | { kind: 'none' };

export interface ChainPlan {
  name: string;
  /**
   * The chain's content (a hash of its FilterChain): a connection whose chain
   * is no longer in any listener after an update is drained, as Envoy drains
   * connections of a changed filter chain — so a new AuthorizationPolicy or
   * mTLS mode reaches pooled keep-alive connections too.
   */
  key: string;
  match: CompiledMatch;
  network: NetworkPlan;
  /** Network RBAC filters listed before the terminal filter, in order. */
  rbac: RbacFilterPlan[];
  /** envoy.filters.network.set_filter_state before the terminal filter: run on each new connection. */
  setState: FilterStateSetter[];
  /** TLS termination (DownstreamTlsContext); undefined = plaintext. */
  tls: TlsPlan | undefined;
}

export interface ListenerPlan {
  name: string;
  address: string;
  port: number;
  bindToPort: boolean;
  useOriginalDst: boolean;
  /**
   * Listener.internal_listener: no socket and no address; connections come in-process from cluster
   * endpoints with an envoy_internal_address naming it (listener/internal-listeners.ts).
   */
  internal: boolean;
  inbound: boolean;
  chains: ChainPlan[];
  defaultChain: ChainPlan | undefined;
  /** Which inspectors run for a connection's destination port (tls_inspector, http_inspector). */
  inspectors: Inspectors;
  /** Whether chain selection or the HTTP codec needs the first bytes. */
  needsDetection: boolean;
  /** listener_filters_timeout: 0 waits for the first bytes without a deadline (istiod's protocolDetectionTimeout 0s). */
  detectTimeoutMs: number;
  /** listener.<address>_<port>.downstream_cx_total */
  statCx: string;
  message: Listener;
}

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
/**
 * Unset listener_filters_timeout: Trellis's deadline, shorter than Envoy's 15 s so that a server-first
 * protocol on a listener that inspects still starts promptly. istiod sets the timeout (0s) on its listeners.
 */
const DEFAULT_DETECT_MS = 100;

export type ListenerResult = { ok: true; value: ListenerPlan } | { ok: false; errors: string[] };

export function compileListener(l: Listener): ListenerResult {
  const errors: string[] = [];
  if (!l.name) errors.push('name: missing');
  const internal = l.listenerSpecifier.case === 'internalListener';
  // An internal listener has no address (Envoy ignores one); any other listener needs its socket address.
  const sa = internal ? { address: '', port: 0 } : socketAddress(l.address, 'address', errors);
  // The unified matcher (xDS matcher trees) would pick chains differently from filter_chain_match: refused, not ignored.
  if (l.filterChainMatcher) errors.push('filterChainMatcher: xDS matcher trees are not supported; use filterChains[].filterChainMatch');
  const chains = l.filterChains.map((fc, i) => compileChain(fc, `filterChains[${i}]`, errors));
  const defaultChain = l.defaultFilterChain ? compileChain(l.defaultFilterChain, 'defaultFilterChain', errors) : undefined;
  if (chains.length === 0 && !defaultChain) errors.push('filterChains: empty and no defaultFilterChain');
  const inspectors = compileListenerFilters(l.listenerFilters, 'listenerFilters', errors);
  if (errors.length > 0 || !sa) return { ok: false, errors };
  const all = defaultChain ? [...chains, defaultChain] : chains;
  // Only what an inspector can see decides a chain; the HTTP codec's own sniffing needs the bytes too.
  const needsDetection = inspectors.tls !== undefined || inspectors.http !== undefined ||
    all.some((c) => c.network.kind === 'http' && c.network.hcm.codec === 'auto');
  const t = durationMs(l.listenerFiltersTimeout);
  return {
    ok: true,
    value: {
      name: l.name,
      address: sa.address,
      port: sa.port,
      bindToPort: !internal && (l.bindToPort ?? true),
      useOriginalDst: l.useOriginalDst ?? false,
      internal,
      inbound: l.trafficDirection === TrafficDirection.INBOUND || l.name === 'virtualInbound',
      chains,
      defaultChain,
      inspectors,
      needsDetection,
      // Explicit 0s is Envoy's "no deadline" (before, it was read as unset: under load a client slower than
      // 100 ms to send its ClientHello or HTTP/2 preface was taken for plaintext or HTTP/1.1).
      detectTimeoutMs: t === undefined ? DEFAULT_DETECT_MS : Math.max(0, t),
      statCx: internal ? `listener.${l.name}.downstream_cx_total` : `listener.${sa.address}_${sa.port}.downstream_cx_total`,
      message: l,
    },
  };
}

const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
const SET_FILTER_STATE_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config';

function compileChain(fc: FilterChain, path: string, errors: string[]): ChainPlan {
  const match = compileMatch(fc.filterChainMatch, `${path}.filterChainMatch`, errors);
  let network: NetworkPlan = { kind: 'none' };
  const rbac: RbacFilterPlan[] = [];
  const setState: FilterStateSetter[] = [];
  fc.filters.forEach((f, i) => {
    const p = `${path}.filters[${i}]`;
    if (f.configType.case !== 'typedConfig') {
      errors.push(`${p}.typedConfig: missing`);
      return;
    }
    const any: Any = f.configType.value;
    // Filters run in the listed order and a terminal filter (HCM, TCP proxy) ends the list.
    if (network.kind !== 'none') errors.push(`${p}: follows the terminal filter ${network.kind === 'http' ? 'http_connection_manager' : 'tcp_proxy'}`);
    if (any.typeUrl === HCM_TYPE) {
      const hcm = unpackTyped(any, HttpConnectionManagerSchema, p, errors);
      if (hcm) network = { kind: 'http', hcm: compileHcm(hcm, `${p}.typedConfig`, errors) };
    } else if (any.typeUrl === TCP_TYPE) {
      const tp = unpackTyped(any, TcpProxySchema, p, errors);
      if (tp) network = { kind: 'tcp', tcp: compileTcpProxy(tp, `${p}.typedConfig`, errors) };
    } else if (any.typeUrl === RBAC_TYPE) {
      const r = unpackTyped(any, NetworkRbacSchema, p, errors);
      if (r) rbac.push(compileNetworkRbac(r, `${p}.typedConfig`, errors));
    } else if (any.typeUrl === SET_FILTER_STATE_TYPE) {
      const c = unpackTyped(any, NetworkSetFilterStateSchema, p, errors);
      if (c) setState.push(...compileSetFilterState(c.onNewConnection, `${p}.typedConfig.onNewConnection`, errors));
    } else {
      // Other network filters (metadata exchange, ...) are not implemented: refuse rather than run without them.
      errors.push(`${p}: unsupported network filter ${f.name} (${any.typeUrl})`);
    }
  });
  const tls = compileDownstreamTls(fc.transportSocket, `${path}.transportSocket`, errors);
  const key = createHash('sha1').update(toBinary(FilterChainSchema, fc)).digest('base64');
  return { name: fc.name, key, match, network, rbac, setState, tls };
}
