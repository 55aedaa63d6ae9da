/**
 * Translation ahead of serving: before a new generator is published, every
 * connected proxy's answers are generated (so the push loop only reads the
 * generator's memos) and checked for consistency on those same answers.
 */
import { errorMessage } from '../../errors.js';
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
  /**
   * Proxies whose translation threw (a translation bug, or a node no one
   * foresaw): they do not hold back the others — their streams meet the
   * same error and keep their last config, as before (context.ts generateSafely).
   */
  failed: { proxy: string; error: string }[];
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
  const failed: Prepared['failed'] = [];
  const ok: PreparedProxy[] = [];
  const t0 = performance.now();
  for (const p of proxies) {
    try {
      generateAll(g, p);
      ok.push(p);
    } catch (err) {
      failed.push({ proxy: p.node.id, error: errorMessage(err) });
    }
  }
  const t1 = performance.now();
  const dangling: Dangling[] = [];
  for (const p of ok) if (p.node.type !== 'ztunnel') dangling.push(...checkProxy(g, p.node));
  const t2 = performance.now();
  return { translateMs: round(t1 - t0), checkMs: round(t2 - t1), proxies: proxies.length, dangling, failed };
}

function generateAll(g: TranslateGenerator, p: PreparedProxy): void {
  const envoy = p.node.type !== 'ztunnel';
  for (const type of pushOrder) {
    if (type === TypeUrl.Secret || !((envoy && walked.has(type)) || p.types.has(type))) continue;
    const named = type === TypeUrl.ClusterLoadAssignment || type === TypeUrl.RouteConfiguration;
    g.generate(p.node, type, named ? g.referencedNames(p.node, type) : undefined);
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
