/**
 * Capture, listener and filter chain for one connection, decided by the
 * proxy's own dispatch (use_original_dst hand-off, Envoy's chain matching).
 */
import { toJson } from '@bufbuild/protobuf';
import { FilterChainMatchSchema } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { chainFor, handOff, type Arrival } from '../../proxy/listener/dispatch.js';
import type { ChainPlan, ListenerPlan } from '../../proxy/listener/listener-plan.js';
import { citeMetadata } from './cite.js';
import type { CompiledProxy } from './compiled-proxy.js';
import type { Trail } from './trail.js';

/** istio-iptables' ports: outbound to 15001, inbound to 15006; the proxy's own uid is exempt. */
const CAPTURE = { outbound: 15001, inbound: 15006 } as const;
const PROXY_UID = 1337;

export interface ListenerChoice {
  listener: ListenerPlan;
  chain: ChainPlan | undefined;
}

export function chooseListener(t: Trail, p: CompiledProxy, a: Arrival): ListenerChoice | undefined {
  const dst = `${a.dst.address}:${a.dst.port}`;
  const inbound = t.side === 'inbound';
  const port = CAPTURE[t.side];
  const capturing = p.interception === 'NONE' ? undefined : p.listeners.find((l) => l.port === port && l.bindToPort);
  let plan: ListenerPlan | undefined;
  if (capturing) {
    t.add('capture', inbound
      ? `the pod's iptables (ISTIO_INBOUND → ISTIO_IN_REDIRECT) redirect the connection to ${dst} to port ${CAPTURE.inbound}: listener ${capturing.name}`
      : `the pod's iptables (ISTIO_OUTPUT → ISTIO_REDIRECT) redirect the app's connection to ${dst} to port ${CAPTURE.outbound}: listener ${capturing.name}; uid ${PROXY_UID} (the proxy) is exempt`,
    [`interception mode ${p.interception}; ${capturing.name} listens on ${capturing.address}:${capturing.port}${capturing.useOriginalDst ? ' with use_original_dst' : ''}`]);
    plan = handOff(p.byAddress, capturing, a.dst);
  } else {
    t.add('capture', p.interception === 'NONE'
      ? `no capture (interception mode NONE): the connection goes to the listener bound at ${dst}`
      : `no listener on port ${port} to capture into: the connection goes to whatever listens at ${dst}`);
    plan = p.byAddress.get(dst) ?? p.byAddress.get(`0.0.0.0:${a.dst.port}`);
  }
  if (!plan) {
    t.add('listener', `no listener owns ${dst}: the connection is refused`);
    return undefined;
  }
  const how = plan === capturing ? (plan.useOriginalDst ? `no listener owns ${dst} or 0.0.0.0:${a.dst.port}: ${plan.name}'s own chains decide` : `${plan.name}'s chains decide by the original destination`)
    : plan.address === a.dst.address ? `${plan.name} owns ${dst}` : `${plan.name} (${plan.address}:${plan.port}) takes port ${a.dst.port} for any address`;
  t.add('listener', `listener ${plan.name}`, [how], citeMetadata(plan.message.metadata));
  const { chain } = chainFor(plan, a);
  if (!chain) {
    t.add('filter-chain', `no filter chain of ${plan.name} matches: the connection is closed`, [`seen: ${arrivalText(a)}`]);
    return { listener: plan, chain: undefined };
  }
  t.add('filter-chain', `filter chain ${chain.name || '(unnamed)'}${chain === plan.defaultChain ? ' (the default chain)' : ''}`, [`seen: ${arrivalText(a)}`, `its match: ${matchText(plan, chain)}`], citeMetadata(rawChainOf(plan, chain)?.metadata));
  return { listener: plan, chain };
}

function arrivalText(a: Arrival): string {
  const d = a.detected;
  return `destination ${a.dst.address}:${a.dst.port}, transport ${d.transport}${d.serverName ? `, SNI ${d.serverName}` : ''}${d.applicationProtocols.length ? `, ALPN ${d.applicationProtocols.join(',')}` : ''}`;
}

/**
 * The PeerAuthentication mode a listener enforces on a port, read back from
 * its chains as istiod builds them: TLS-only chains are STRICT, TLS and
 * plaintext chains PERMISSIVE, plaintext only DISABLE.
 */
export function mtlsMode(plan: ListenerPlan, port: number): 'STRICT' | 'PERMISSIVE' | 'DISABLE' {
  const own = plan.chains.filter((c) => c.match.destinationPort === port);
  const chains = own.length > 0 ? own : plan.chains.filter((c) => c.match.destinationPort === undefined);
  const tls = chains.some((c) => c.tls !== undefined);
  const plain = chains.some((c) => c.tls === undefined && c.network.kind !== 'none');
  return tls && !plain ? 'STRICT' : tls ? 'PERMISSIVE' : 'DISABLE';
}

export function rawChainOf(plan: ListenerPlan, chain: ChainPlan) {
  const i = plan.chains.indexOf(chain);
  return i >= 0 ? plan.message.filterChains[i] : plan.message.defaultFilterChain;
}

function matchText(plan: ListenerPlan, chain: ChainPlan): string {
  const m = rawChainOf(plan, chain)?.filterChainMatch;
  const json = m ? toJson(FilterChainMatchSchema, m) : {};
  return Object.keys(json as object).length === 0 ? 'any connection' : JSON.stringify(json);
}
