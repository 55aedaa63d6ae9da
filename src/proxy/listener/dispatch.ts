/**
 * Which listener and filter chain take a connection, without the socket:
 * the use_original_dst hand-off (the listener owning the original
 * destination, else 0.0.0.0 on its port, else the capturing listener itself)
 * and the chain that what the inspectors saw selects (else the default
 * chain). The listener manager runs these per connection; `trellis explain`
 * runs the same on a proxy's config dump.
 */
import { selectChain } from './chain-match.js';
import type { Detected } from './detect.js';
import type { ChainPlan, ListenerPlan } from './listener-plan.js';

export type AddressIndex = ReadonlyMap<string, ListenerPlan>;

/** The hand-off targets by "ip:port": never a use_original_dst listener itself. */
export function addressIndex(plans: readonly ListenerPlan[]): AddressIndex {
  return new Map(plans.filter((p) => !p.useOriginalDst && !p.internal).map((p) => [`${p.address}:${p.port}`, p]));
}

export function handOff(index: AddressIndex, plan: ListenerPlan, dst: { address: string; port: number }): ListenerPlan {
  if (!plan.useOriginalDst) return plan;
  return index.get(`${dst.address}:${dst.port}`) ?? index.get(`0.0.0.0:${dst.port}`) ?? plan;
}

export interface Arrival {
  dst: { address: string; port: number };
  /** The peer's address and port. */
  source: { address: string; port: number };
  detected: Detected;
}

/** The chain for a connection; only what the listener's inspectors report for the port decides it. */
export function chainFor(plan: ListenerPlan, a: Arrival): { chain: ChainPlan | undefined; serverName: string } {
  const port = a.dst.port;
  const d = a.detected;
  const tlsSeen = d.transport === 'tls' && (plan.inspectors.tls?.(port) ?? false);
  const httpSeen = d.transport !== 'tls' && (plan.inspectors.http?.(port) ?? false);
  const serverName = tlsSeen ? d.serverName : '';
  const chain = selectChain(plan.chains, {
    port,
    address: a.dst.address,
    serverName,
    transportProtocol: tlsSeen ? 'tls' : 'raw_buffer',
    applicationProtocols: tlsSeen || httpSeen ? d.applicationProtocols : [],
    sourceAddress: a.source.address,
    sourcePort: a.source.port,
  }) ?? plan.defaultChain;
  return { chain, serverName };
}
