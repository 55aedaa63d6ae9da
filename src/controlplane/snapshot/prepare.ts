/**
 * Translation ahead of serving: before a new generator is published, every
 * connected proxy's answers are generated (so the push loop only reads the
 * generator's memos) and checked for consistency on those same answers.
 */
import type { ProxyNode } from '../../xds/proxy-node.js';
import { pushOrder, TypeUrl } from '../../xds/type-urls.js';
import type { TranslateGenerator } from '../translate/generator-impl.js';
import { checkProxy, type Dangling } from './consistency.js';

/** A connected proxy as prepare() needs it: its node and the types its stream subscribed to. */
export interface PreparedProxy {
  readonly node: ProxyNode;
  readonly types: ReadonlyMap<TypeUrl, unknown>;
}

export interface Prepared {
  /** Generating every proxy's answers (what the push loop would otherwise do inside itself). */
  translateMs: number;
  /** The consistency check on those answers. */
  checkMs: number;
  proxies: number;
  /** Empty when the snapshot may be published. */
  dangling: Dangling[];
}

/** What Envoy resolves through its listeners and clusters: always generated and checked for an Envoy-style proxy. */
const walked: ReadonlySet<TypeUrl> = new Set([TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration]);

/**
 * Generates what each proxy will be asked for, in push order: CDS and LDS
 * wildcard, EDS and RDS for the names its clusters and listeners reference,
 * the name table and the workload API when its stream subscribed to them.
 * SDS is left to the stream: a router names its secrets itself, and they
 * are read from the model, not translated. A node proxy (ztunnel) has no
 * listeners or clusters to check.
 */
export function prepare(g: TranslateGenerator, proxies: readonly PreparedProxy[]): Prepared {
  const t0 = performance.now();
  for (const p of proxies) {
    const envoy = p.node.type !== 'ztunnel';
    for (const type of pushOrder) {
      if (type === TypeUrl.Secret || !((envoy && walked.has(type)) || p.types.has(type))) continue;
      const named = type === TypeUrl.ClusterLoadAssignment || type === TypeUrl.RouteConfiguration;
      g.generate(p.node, type, named ? g.referencedNames(p.node, type) : undefined);
    }
  }
  const t1 = performance.now();
  const dangling: Dangling[] = [];
  for (const p of proxies) if (p.node.type !== 'ztunnel') dangling.push(...checkProxy(g, p.node));
  const t2 = performance.now();
  return { translateMs: round(t1 - t0), checkMs: round(t2 - t1), proxies: proxies.length, dangling };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
