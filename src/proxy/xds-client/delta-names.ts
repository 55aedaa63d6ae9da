/**
 * The resource names of one Delta DiscoveryRequest for a type (pure): what
 * to subscribe and unsubscribe given what the stream was already sent.
 *
 * A wildcard type (LDS, CDS) starts with the legacy wildcard — an empty
 * subscribe list. Names subscribed on demand on top of it (on-demand CDS)
 * go with "*" the first time on a stream: the Delta protocol ends a legacy
 * wildcard subscription when a client names resources, unless it names "*"
 * too (Envoy's DeltaSubscriptionState does the same). On a new stream the
 * first request names "*" and every on-demand name again.
 */
import type { TypeState } from './type-state.js';

export const WILDCARD = '*';

export interface DeltaNames {
  subscribe: string[];
  unsubscribe: string[];
  /** What the stream has been sent after this request (the next diff's base). */
  sent: Set<string>;
}

/** A new stream starts with an empty `sent`: everything is subscribed again. */
export function deltaNames(st: Pick<TypeState, 'type' | 'names' | 'onDemand' | 'sent'>): DeltaNames {
  if (!st.type.wildcard) {
    return {
      subscribe: [...st.names].filter((n) => !st.sent.has(n)),
      unsubscribe: [...st.sent].filter((n) => !st.names.has(n)),
      sent: new Set(st.names),
    };
  }
  if (st.onDemand.size === 0) return { subscribe: [], unsubscribe: [], sent: new Set() };
  const subscribe = [...st.onDemand].filter((n) => !st.sent.has(n));
  if (!st.sent.has(WILDCARD)) subscribe.unshift(WILDCARD);
  return { subscribe, unsubscribe: [], sent: new Set([WILDCARD, ...st.onDemand]) };
}
