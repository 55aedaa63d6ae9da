/**
 * Incremental translation (issue 16): after every step of a random sequence
 * of changes, the Generator the control plane would publish — derived from
 * the previous one when only endpoints changed (registry/state-change.ts,
 * updateEndpoints, deriveGenerator) or only VirtualServices (updateRouting,
 * deriveRoutingGenerator), else built in full — answers every
 * proxy, every type, exactly as a Generator translated from scratch: the
 * same names with the same versions (hashes of the bytes). The mesh has what
 * makes endpoints reach beyond EDS: auto mTLS (tlsMode), SANs (service
 * accounts), a headless service (NDS), locality load balancing (answers per
 * proxy locality), selector-built endpoints (Pod readiness), ambient pods
 * with an HBONE sidecar, and a waypoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { objectKey, type AnyObject } from '../../../src/config/objects.js';
import type { ConfigState } from '../../../src/controlplane/sources/source.js';
import { buildModel, updateEndpoints, updateRouting } from '../../../src/controlplane/registry/build-model.js';
import { classifyChange } from '../../../src/controlplane/registry/state-change.js';

const endpointOnlyChange = (a: ConfigState['objects'], b: ConfigState['objects']) => {
  const c = classifyChange(a, b);
  return c && 'endpoints' in c ? c.endpoints : undefined;
};
import type { MeshModel } from '../../../src/controlplane/registry/model.js';
import { createGenerator, deriveGenerator, deriveRoutingGenerator, type TranslateGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';

const SLICED = ['svc-0', 'svc-1', 'svc-2'];
const PODS = ['api-0', 'api-1', 'api-2', 'api-3'];
const AMBIENT_PODS = ['amb-0', 'amb-1'];
const WP_LABEL = 'gateway.networking.k8s.io/gateway-name';

function meta(kind: string, name: string, namespace: string, extra: Record<string, unknown> = {}): AnyObject {
  return { apiVersion: kind === 'EndpointSlice' ? 'discovery.k8s.io/v1' : 'v1', kind, metadata: { name, namespace }, ...extra } as AnyObject;
}

function service(name: string, namespace: string, opts: { headless?: boolean; selector?: Record<string, string> } = {}): AnyObject {
  return meta('Service', name, namespace, {
    spec: {
      clusterIP: opts.headless ? 'None' : `10.96.${namespace === 'a' ? 0 : 1}.${name.length + name.charCodeAt(name.length - 1)}`,
      ...(opts.selector ? { selector: opts.selector } : {}),
      ports: [{ name: 'http', port: 9080, targetPort: 9080 }, { name: 'grpc', port: 9090, targetPort: 9090 }],
    },
  });
}

interface SliceEndpoint { ip: string; ready: boolean; pod?: string; zone?: string }

function slice(svc: string, namespace: string, eps: readonly SliceEndpoint[]): AnyObject {
  const o = meta('EndpointSlice', `${svc}-abc`, namespace, {
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready }, ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace } } : {}), ...(e.zone ? { zone: e.zone } : {}) })),
    ports: [{ name: 'http', port: 9080 }, { name: 'grpc', port: 9090 }],
  });
  o.metadata.labels = { 'kubernetes.io/service-name': svc };
  return o;
}

function pod(name: string, namespace: string, ip: string, labels: Record<string, string>, sa: string, ready: boolean): AnyObject {
  const o = meta('Pod', name, namespace, {
    spec: { serviceAccountName: sa, containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 9080 }] }] },
    status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  o.metadata.labels = labels;
  return o;
}

function fixed(): AnyObject[] {
  const ns = (name: string, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) }, spec: {} }) as AnyObject;
  const dr = (name: string, host: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: 'a' }, spec: { host, ...spec } }) as AnyObject;
  return [
    ns('a'), ns('b'), ns('amb', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'wp' }),
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'wp', namespace: 'amb' }, spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } } as AnyObject,
    meta('Service', 'wp', 'amb', { spec: { clusterIP: '10.96.9.9', selector: { [WP_LABEL]: 'wp' }, ports: [{ name: 'mesh', port: 15008 }] } }),
    ...SLICED.map((s, i) => service(s, i === 2 ? 'b' : 'a')),
    service('api', 'a', { selector: { app: 'api' } }),
    service('hl', 'a', { headless: true }),
    service('amb-svc', 'amb', { selector: { app: 'amb' } }),
    dr('svc-0', 'svc-0.a.svc.cluster.local', { subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }),
    dr('svc-1', 'svc-1.a.svc.cluster.local', { trafficPolicy: { outlierDetection: { consecutive5xxErrors: 3 } } }),
    dr('api', 'api.a.svc.cluster.local', { subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
    pod('client', 'a', '10.3.0.1', { app: 'client', 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'z1' }, 'client', true),
    { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'b' }, spec: { egress: [{ hosts: ['./*', 'a/svc-0.a.svc.cluster.local', 'a/hl.a.svc.cluster.local'] }] } } as AnyObject,
  ];
}

/** The mutable part of the mesh: slices, the api pods (labels, service account, tlsMode, readiness), the ambient pods' and the waypoint's readiness. */
interface World {
  slices: Map<string, SliceEndpoint[] | undefined>;
  pods: { ready: boolean; version: string; sa: string; tls: boolean }[];
  ambientReady: boolean[];
  drSubset: string;
  nextIp: number;
  /** svc-0's VirtualService: v1's weight; and whether ns b routes svc-2 with a VirtualService of its own. */
  vsWeight: number;
  vsB: boolean;
}

function initialWorld(): World {
  const slices = new Map<string, SliceEndpoint[] | undefined>();
  SLICED.forEach((s, i) => slices.set(s, [{ ip: `10.1.${i}.1`, ready: true, pod: 'api-0', zone: 'z1' }, { ip: `10.1.${i}.2`, ready: true, zone: 'z2' }]));
  slices.set('hl', [{ ip: '10.1.9.1', ready: true }]);
  const pods = PODS.map((_, i) => ({ ready: i !== 3, version: i % 2 ? 'v2' : 'v1', sa: i < 2 ? 'api' : 'api-canary', tls: i !== 1 }));
  return { slices, pods, ambientReady: [true, true, true], drSubset: 'v1', nextIp: 10, vsWeight: 80, vsB: false };
}

function stateOf(w: World, revision: number, previous?: ConfigState): ConfigState {
  const objects: AnyObject[] = [...fixed()];
  for (const [svc, eps] of w.slices) if (eps) objects.push(slice(svc, svc === 'svc-2' ? 'b' : 'a', eps));
  w.pods.forEach((p, i) => objects.push(pod(PODS[i]!, 'a', `10.0.0.${i + 1}`, { app: 'api', version: p.version, ...(p.tls ? { 'security.istio.io/tlsMode': 'istio' } : {}) }, p.sa, p.ready)));
  AMBIENT_PODS.forEach((p, i) => objects.push(pod(p, 'amb', `10.2.0.${i + 1}`, { app: 'amb' }, 'amb', w.ambientReady[i]!)));
  objects.push(pod('wp-1', 'amb', '10.2.0.99', { [WP_LABEL]: 'wp', 'istio.io/dataplane-mode': 'none' }, 'wp', w.ambientReady[2]!));
  const vs = (name: string, namespace: string, http: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace }, spec: { hosts: [name], http } }) as AnyObject;
  objects.push(vs('svc-0', 'a', [{ route: [{ destination: { host: 'svc-0', subset: 'v1' }, weight: w.vsWeight }, { destination: { host: 'svc-0', subset: 'v2' }, weight: 100 - w.vsWeight }] }]));
  if (w.vsB) objects.push(vs('svc-2', 'b', [{ match: [{ uri: { prefix: '/a' } }], route: [{ destination: { host: 'svc-0.a.svc.cluster.local' } }], timeout: '2s' }, { route: [{ destination: { host: 'svc-2' } }], retries: { attempts: 2 } }]));
  const api = objects.find((o) => o.kind === 'DestinationRule' && o.metadata.name === 'api')!;
  (api.spec as { subsets: { labels: Record<string, string> }[] }).subsets[0]!.labels = { version: w.drSubset };
  const map = new Map(objects.map((o) => [objectKey(o), o]));
  // As the sources do: an object that did not change is the same object.
  if (previous) for (const [k, o] of map) { const old = previous.objects.get(k); if (old && JSON.stringify(old) === JSON.stringify(o)) map.set(k, old); }
  return { objects: map, problems: [], revision };
}

type Step =
  | { op: 'add'; svc: number; pod: number; ready: boolean; zone: number }
  | { op: 'remove'; svc: number; at: number }
  | { op: 'flip'; svc: number; at: number }
  | { op: 'drop-slice'; svc: number }
  | { op: 'pod-ready'; pod: number }
  | { op: 'ambient-ready'; pod: number }
  | { op: 'pod-relabel'; pod: number }
  | { op: 'pod-sa'; pod: number }
  | { op: 'dr' }
  | { op: 'vs-weight' }
  | { op: 'vs-toggle' };

const sliceKeys = [...SLICED, 'hl'];
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), svc: fc.nat(3), pod: fc.nat(4), ready: fc.boolean(), zone: fc.nat(2) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), svc: fc.nat(3), at: fc.nat(5) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), svc: fc.nat(3), at: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop-slice' as const), svc: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('pod-ready' as const), pod: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ambient-ready' as const), pod: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pod-relabel' as const), pod: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pod-sa' as const), pod: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dr' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('vs-weight' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('vs-toggle' as const) }) },
);

function apply(w: World, s: Step): void {
  const key = s.op === 'add' || s.op === 'remove' || s.op === 'flip' || s.op === 'drop-slice' ? sliceKeys[s.svc]! : '';
  const eps = w.slices.get(key);
  switch (s.op) {
    case 'add': {
      // pod 4: no targetRef (no labels, no service account); the others bring their pod's labels and identity.
      const ip = `10.1.8.${w.nextIp++}`;
      w.slices.set(key, [...(eps ?? []), { ip, ready: s.ready, ...(s.pod < 4 ? { pod: PODS[s.pod] } : {}), ...(s.zone ? { zone: `z${s.zone}` } : {}) }]);
      return;
    }
    case 'remove': if (eps && eps.length) w.slices.set(key, eps.filter((_, i) => i !== s.at % eps.length)); return;
    case 'flip': if (eps && eps.length) w.slices.set(key, eps.map((e, i) => (i === s.at % eps.length ? { ...e, ready: !e.ready } : e))); return;
    case 'drop-slice': w.slices.set(key, eps ? undefined : [{ ip: `10.1.8.${w.nextIp++}`, ready: true }]); return;
    case 'pod-ready': w.pods[s.pod]!.ready = !w.pods[s.pod]!.ready; return;
    case 'ambient-ready': w.ambientReady[s.pod] = !w.ambientReady[s.pod]; return;
    case 'pod-relabel': w.pods[s.pod]!.version = w.pods[s.pod]!.version === 'v1' ? 'v2' : 'v1'; return;
    case 'pod-sa': w.pods[s.pod]!.sa = w.pods[s.pod]!.sa === 'api' ? 'api-canary' : 'api'; return;
    case 'dr': w.drSubset = w.drSubset === 'v1' ? 'v2' : 'v1'; return;
    case 'vs-weight': w.vsWeight = w.vsWeight === 80 ? 50 : 80; return;
    case 'vs-toggle': w.vsB = !w.vsB; return;
  }
}

const nodes: ProxyNode[] = [
  parseNodeId('sidecar~10.3.0.1~client.a~a.svc.cluster.local'),
  parseNodeId('sidecar~10.3.0.2~other.a~a.svc.cluster.local'),
  parseNodeId('sidecar~10.3.0.3~client.b~b.svc.cluster.local'),
  parseNodeId('sidecar~10.0.0.1~api-0.a~a.svc.cluster.local'),
  parseNodeId('sidecar~10.3.0.4~hbone.a~a.svc.cluster.local', { ENABLE_HBONE: 'true' }),
  parseNodeId('sidecar~10.3.0.5~grpc.a~a.svc.cluster.local', { NAMESPACE: 'a', GENERATOR: 'grpc' }),
  parseNodeId('ztunnel~10.3.0.9~ztunnel-node.istio-system~istio-system.svc.cluster.local'),
  { ...parseNodeId('waypoint~10.2.0.99~wp-1.amb~amb.svc.cluster.local'), labels: { [WP_LABEL]: 'wp' } },
];
const types = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration, TypeUrl.NameTable, TypeUrl.Address];
const byName = new Set<string>([TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration]);

/** Every answer as name → version, per node and type: what a proxy would hold. */
function answers(gen: TranslateGenerator, which: readonly ProxyNode[]): string {
  const out: string[] = [];
  for (const node of which) {
    for (const type of types) {
      if (node.type === 'ztunnel' ? type !== TypeUrl.Address : type === TypeUrl.Address) continue;
      const set = gen.generate(node, type, byName.has(type) ? gen.referencedNames(node, type) : undefined);
      out.push(`${node.id} ${type}: ${[...set.values()].map((r) => `${r.name}=${r.version}`).sort().join(' ')}`);
    }
  }
  return out.join('\n');
}

const full = (state: ConfigState) => {
  const model = buildModel(state);
  return { model, gen: createGenerator(model, routeBuilders) };
};

test('incremental translation equals a full one after every step of random changes', () => {
  const tally = { derived: 0, refused: 0, routing: 0, full: 0 };
  fc.assert(
    fc.property(fc.array(fc.tuple(stepArb, fc.array(fc.boolean(), { minLength: nodes.length, maxLength: nodes.length })), { minLength: 1, maxLength: 8 }), (steps) => {
      const w = initialWorld();
      let state = stateOf(w, 1);
      let { model, gen } = full(state) as { model: MeshModel; gen: TranslateGenerator };
      for (const [i, [step, warm]] of steps.entries()) {
        // Proxies asked before the change (the push), some not: their scopes are built after it, from the derived Generator.
        answers(gen, nodes.filter((_, j) => warm[j]));
        apply(w, step);
        const next = stateOf(w, i + 2, state);
        const kind = classifyChange(state.objects, next.objects);
        const update = kind && 'endpoints' in kind ? updateEndpoints(model, next, kind.endpoints) : undefined;
        const derived = update && deriveGenerator(gen, update.model, update.changedHosts);
        const routingModel = kind && 'routing' in kind ? updateRouting(model, next) : undefined;
        const routed = routingModel && deriveRoutingGenerator(gen, routingModel);
        if (derived) tally.derived++;
        else if (update) tally.refused++;
        else if (routed) tally.routing++;
        else tally.full++;
        ({ model, gen } = derived ? { model: update.model, gen: derived } : routed ? { model: routingModel, gen: routed } : full(next));
        state = next;
        assert.equal(answers(gen, nodes), answers(full(next).gen, nodes), `after ${JSON.stringify(steps.slice(0, i + 1).map(([s]) => s))}`);
      }
    }),
    { seed: 1616, numRuns: 16 },
  );
  // The property means something only if every path was taken.
  assert.ok(tally.derived > tally.refused && tally.refused > 0 && tally.routing > 0 && tally.full > 0, JSON.stringify(tally));
});

test('an endpoint-only change classifies slices and readiness only', () => {
  const w = initialWorld();
  const s1 = stateOf(w, 1);
  w.pods[0]!.ready = false;
  const s2 = stateOf(w, 2, s1);
  assert.deepEqual([...endpointOnlyChange(s1.objects, s2.objects)!.pods.keys()], ['Pod/a/api-0']);
  w.pods[0]!.version = 'v9';
  assert.equal(endpointOnlyChange(s2.objects, stateOf(w, 3, s2).objects), undefined, 'a relabelled pod moves proxies between selectors');
  const s4 = stateOf(initialWorld(), 4);
  const w5 = initialWorld();
  w5.slices.set('svc-1', undefined);
  assert.deepEqual([...endpointOnlyChange(s4.objects, stateOf(w5, 5, s4).objects)!.services], ['a/svc-1'], 'a deleted slice names its service');
});
