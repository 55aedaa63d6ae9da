import { objectKey, type AnyObject } from '../../src/config/objects.js';
import type { ConfigState } from '../../src/controlplane/sources/source.js';
import { buildModel } from '../../src/controlplane/registry/build-model.js';
import { createGenerator } from '../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../src/controlplane/translate/routes/index.js';
import { parseNodeId } from '../../src/xds/parse-node.js';
import type { ProxyNode } from '../../src/xds/proxy-node.js';
import { pushOrder, TypeUrl } from '../../src/xds/type-urls.js';

/** The types Envoy asks for by name (the others by wildcard). */
const byName = new Set<string>([TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration, TypeUrl.Secret]);

export function stateOf(objects: AnyObject[]): ConfigState {
  return { objects: new Map(objects.map((o) => [objectKey(o), o])), problems: [], revision: 1 };
}

/** The node ids the push benchmark's simulated sidecars use: `n` proxies spread over `namespaces`. */
export function benchNodes(n: number, namespaces: number): ProxyNode[] {
  return Array.from({ length: n }, (_, i) => {
    const ns = `ns-${i % namespaces}`;
    return parseNodeId(`sidecar~10.200.${Math.floor(i / 250)}.${(i % 250) + 1}~client-${i}.${ns}~${ns}.svc.cluster.local`);
  });
}

export interface FullTranslation {
  modelMs: number;
  translateMs: number;
  /** CPU of the translation (includes V8's GC helper threads: beside wall time it shows whether others competed). */
  translateCpuMs: number;
  resources: number;
}

/**
 * One full recompute as the control plane does it on a change: build the
 * model from the whole state, then every resource type for every node
 * (names as Envoy asks for them: those its listeners and clusters reference).
 */
export function fullTranslation(state: ConfigState, nodes: readonly ProxyNode[]): FullTranslation {
  const t0 = performance.now();
  const model = buildModel(state, { domainSuffix: 'cluster.local', trustDomain: 'cluster.local' });
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const gen = createGenerator(model, routeBuilders);
  let resources = 0;
  for (const node of nodes) {
    for (const type of pushOrder) resources += gen.generate(node, type, byName.has(type) ? gen.referencedNames(node, type) : undefined).size;
  }
  const cpu = process.cpuUsage(c1);
  return { modelMs: t1 - t0, translateMs: performance.now() - t1, translateCpuMs: (cpu.user + cpu.system) / 1000, resources };
}
