/**
 * Route configurations are assembled from virtual hosts shared across
 * namespaces and encoded by parts (wire/route-resource.ts,
 * translate/routes/vhost-memo.ts). These tests pin that sharing changes
 * nothing a proxy receives: every resource equals a plain toBinary of its
 * message, equals what a generator computing only that proxy produces, and
 * equal config gives equal versions.
 */
import { NameTableSchema } from '../../../src/gen/networking/nds/v1/nds_pb.js';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { create, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { TypeUrl, pushOrder } from '../../../src/xds/type-urls.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { buildOutboundRouteConfig, routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { visibleServices } from '../../../src/controlplane/registry/visibility.js';
import { encodeRouteConfiguration } from '../../../src/controlplane/wire/route-resource.js';
import { encodeWithParts } from '../../../src/controlplane/wire/parts-encoding.js';
import { EndpointSchema, LbEndpointSchema, LocalityLbEndpointsSchema, type LbEndpoint } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { XdsResource } from '../../../src/controlplane/wire/resource.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { RouteSchema, VirtualHostSchema, type VirtualHost } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { HeaderValueOptionSchema, HeaderValueSchema, LocalitySchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { modelOf, sidecarNode } from './helpers.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';

const namespaces = ['a', 'b', 'c', 'd'];

function service(name: string, ns: string, vip: string): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  clusterIP: ${vip}
  selector: {app: ${name}}
  ports: [{name: http, port: 9080, targetPort: 9080}, {name: grpc, port: 9090, targetPort: 9090}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-x, namespace: ${ns}, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
endpoints: [{addresses: [${vip.replace('10.96', '10.1')}], conditions: {ready: true}}]
ports: [{name: http, port: 9080, protocol: TCP}, {name: grpc, port: 9090, protocol: TCP}]
`;
}

/** Services in every namespace plus config that makes routes differ by the proxy's namespace. */
const mesh = [
  ...namespaces.flatMap((ns, i) => [service('web', ns, `10.96.${i}.1`), service('api', ns, `10.96.${i}.2`)]),
  `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api-hash, namespace: a}
spec:
  host: api.b.svc.cluster.local
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: b}
spec:
  host: api
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: b}
spec:
  hosts: [api]
  http:
  - match: [{sourceNamespace: c}]
    route: [{destination: {host: api, subset: v1}}]
  - route: [{destination: {host: api}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web-local, namespace: c}
spec:
  hosts: [web.d.svc.cluster.local]
  exportTo: ['.']
  http: [{route: [{destination: {host: web.d.svc.cluster.local}}], timeout: 3s}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: d}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: web}}], retries: {attempts: 2}}]
`,
].join('\n---\n');

const nodes = namespaces.map((ns, i) => sidecarNode(`10.200.0.${i + 1}`, `client-${i}`, ns));
const schemas: Record<string, DescMessage> = {
  [TypeUrl.Cluster]: ClusterSchema,
  [TypeUrl.ClusterLoadAssignment]: ClusterLoadAssignmentSchema,
  [TypeUrl.Listener]: ListenerSchema,
  [TypeUrl.RouteConfiguration]: RouteConfigurationSchema,
  [TypeUrl.NameTable]: NameTableSchema,
};

/** Every resource of every type for `node`, as Envoy would ask for them. */
function allResources(gen: ReturnType<typeof createGenerator>, node: ProxyNode): Map<string, XdsResource> {
  const out = new Map<string, XdsResource>();
  for (const type of pushOrder) {
    const named = type === TypeUrl.RouteConfiguration || type === TypeUrl.ClusterLoadAssignment;
    for (const r of gen.generate(node, type, named ? gen.referencedNames(node, type) : undefined).values()) out.set(`${type} ${r.name}`, r);
  }
  return out;
}

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest('base64url').slice(0, 16);
const routesOf = (res: Map<string, XdsResource>, name: string) => res.get(`${TypeUrl.RouteConfiguration} ${name}`)!.message as RouteConfiguration;
const vhost = (rc: RouteConfiguration, name: string) => rc.virtualHosts.find((v) => v.name === name);

describe('shared virtual hosts and encoding by parts', () => {
  const shared = createGenerator(modelOf(mesh), routeBuilders);
  const sharedRes = nodes.map((n) => allResources(shared, n));

  test('every resource is byte-identical to toBinary of its message; versions are sha1 of the bytes (route configurations: of their parts)', () => {
    let checked = 0;
    for (const res of sharedRes) {
      for (const r of res.values()) {
        const bytes = toBinary(schemaOf(r), r.message as never);
        assert.deepEqual(r.any.value, bytes, r.name);
        if (r.typeUrl !== `type.googleapis.com/${RouteConfigurationSchema.typeName}`) assert.equal(r.version, sha1(bytes), r.name);
        checked++;
      }
    }
    assert.ok(checked > 40, `checked ${checked}`);
  });

  test('each proxy gets exactly what a generator computing only that proxy gives it', () => {
    for (const [i, node] of nodes.entries()) {
      const alone = allResources(createGenerator(modelOf(mesh), routeBuilders), node);
      assert.deepEqual([...alone.keys()].sort(), [...sharedRes[i]!.keys()].sort());
      for (const [key, r] of alone) assert.equal(sharedRes[i]!.get(key)!.version, r.version, `${node.namespace}: ${key}`);
    }
  });

  test('equal config gives equal versions across models', () => {
    const again = createGenerator(modelOf(mesh), routeBuilders);
    for (const [i, node] of nodes.entries()) {
      for (const [key, r] of allResources(again, node)) assert.equal(r.version, sharedRes[i]!.get(key)!.version, key);
    }
  });

  test('namespace-dependent inputs still differ by namespace', () => {
    const api = 'api.b.svc.cluster.local:9080';
    const [a, b, c, d] = sharedRes.map((r) => routesOf(r, '9080'));
    // The DestinationRule in namespace a adds a hash policy for a's proxies only.
    const hashOf = (rc: RouteConfiguration) => vhost(rc, api)!.routes.map((r) => (r.action.case === 'route' ? r.action.value.hashPolicy.length : -1));
    assert.deepEqual(hashOf(a!), [1]);
    assert.deepEqual(hashOf(d!), [0]);
    // sourceNamespace: c's proxies get the subset route (a catch-all for them), the others the default one.
    const cluster = (rc: RouteConfiguration) => { const r = vhost(rc, api)!.routes[0]!; return r.action.case === 'route' ? r.action.value.clusterSpecifier.value : undefined; };
    assert.equal(cluster(c!), 'outbound|9080|v1|api.b.svc.cluster.local');
    assert.equal(cluster(d!), 'outbound|9080||api.b.svc.cluster.local');
    // The VirtualService exported only to c wins there; elsewhere d's own applies.
    const web = 'web.d.svc.cluster.local:9080';
    const timeout = (rc: RouteConfiguration) => { const r = vhost(rc, web)!.routes[0]!; return r.action.case === 'route' ? r.action.value.timeout?.seconds : undefined; };
    assert.equal(timeout(c!), 3n);
    assert.equal(timeout(a!), 0n);
    // The short domain "api" only for proxies in the service's namespace.
    assert.ok(vhost(b!, api)!.domains.includes('api'));
    assert.ok(!vhost(a!, api)!.domains.includes('api'));
  });

  test('route configuration versions: equal bytes, equal version; different bytes, different version', () => {
    const byBytes = new Map<string, string>();
    const versions = new Map<string, string>();
    for (const res of sharedRes) {
      for (const r of res.values()) {
        if (r.typeUrl !== `type.googleapis.com/${RouteConfigurationSchema.typeName}`) continue;
        const key = Buffer.from(r.any.value).toString('base64');
        if (byBytes.has(key)) assert.equal(byBytes.get(key), r.version);
        byBytes.set(key, r.version);
        versions.set(r.version, key);
      }
    }
    assert.equal(versions.size, byBytes.size);
    assert.ok(byBytes.size >= 6, `${byBytes.size} distinct route configurations`);
  });

  test('virtual hosts with equal inputs are the same object in different namespaces', () => {
    const model = modelOf(mesh);
    const [a, c, d] = ['a', 'c', 'd'].map((ns) =>
      buildOutboundRouteConfig({ model, namespace: ns, services: visibleServices(model.services, ns, undefined) }, 9080));
    const web = 'web.b.svc.cluster.local:9080';
    assert.ok(vhost(a!, web) !== undefined);
    assert.equal(vhost(a!, web), vhost(d!, web));
    // Not shared where an input differs: the hash policy (a's rule) and the VirtualService exported only to c.
    const api = 'api.b.svc.cluster.local:9080';
    assert.notEqual(vhost(a!, api), vhost(d!, api));
    assert.notEqual(vhost(c!, 'web.d.svc.cluster.local:9080'), vhost(a!, 'web.d.svc.cluster.local:9080'));
    assert.deepEqual(vhost(c!, web), vhost(a!, web));
  });

  test('a resource decodes to the message that was encoded', () => {
    const rc = routesOf(sharedRes[0]!, '9080');
    assert.equal(rc.name, '9080');
    assert.equal(rc, routesOf(sharedRes[0]!, '9080'));
    assert.deepEqual(toBinary(RouteConfigurationSchema, rc), sharedRes[0]!.get(`${TypeUrl.RouteConfiguration} 9080`)!.any.value);
  });
});

function schemaOf(r: XdsResource): DescMessage {
  const s = Object.values(schemas).find((d) => r.typeUrl === `type.googleapis.com/${d.typeName}`);
  assert.ok(s, r.typeUrl);
  return s;
}

describe('encodeRouteConfiguration', () => {
  const vh = (name: string): VirtualHost =>
    create(VirtualHostSchema, { name, domains: [name, `${name}:80`], routes: [create(RouteSchema, { name: 'r' })], includeRequestAttemptCount: true });
  const cases: [string, RouteConfiguration][] = [
    ['empty', create(RouteConfigurationSchema, {})],
    ['name only', create(RouteConfigurationSchema, { name: '9080' })],
    ['no name, hosts', create(RouteConfigurationSchema, { virtualHosts: [vh('a'), vh('b')] })],
    ['fields after virtual_hosts', create(RouteConfigurationSchema, {
      name: 'x'.repeat(300),
      virtualHosts: [vh('a'), vh('b'.repeat(200))],
      validateClusters: false,
      responseHeadersToRemove: ['x-a'],
      requestHeadersToAdd: [create(HeaderValueOptionSchema, { header: create(HeaderValueSchema, { key: 'k', value: 'v' }) })],
      maxDirectResponseBodySizeBytes: 42,
    })],
  ];
  for (const [what, rc] of cases) {
    test(`equals toBinary: ${what}`, () => {
      assert.deepEqual(encodeRouteConfiguration(rc), toBinary(RouteConfigurationSchema, rc));
      // Second time from memoised virtual host bytes.
      assert.deepEqual(encodeRouteConfiguration(rc), toBinary(RouteConfigurationSchema, rc));
    });
  }

  test('a large virtual host (multi-byte length) and a shared one in two configurations', () => {
    const big = create(VirtualHostSchema, { name: 'big', domains: Array.from({ length: 3000 }, (_, i) => `host-${i}.example.com`) });
    const one = create(RouteConfigurationSchema, { name: '1', virtualHosts: [big, vh('z')] });
    const two = create(RouteConfigurationSchema, { name: '2', virtualHosts: [vh('y'), big], validateClusters: true });
    assert.ok(toBinary(VirtualHostSchema, big).length > 16384);
    assert.deepEqual(encodeRouteConfiguration(one), toBinary(RouteConfigurationSchema, one));
    assert.deepEqual(encodeRouteConfiguration(two), toBinary(RouteConfigurationSchema, two));
  });
});

describe('domains shared by two services or a VirtualService host', () => {
  /** Service web in a; a ServiceEntry whose host is web's short form "web.a" and which shares web's VIP. */
  const collide = `${service('web', 'a', '10.96.0.1')}
---
${service('api', 'a', '10.96.0.2')}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: alias, namespace: a}
spec:
  hosts: [web.a]
  addresses: [10.96.0.1]
  ports: [{number: 9080, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 10.9.9.9}]
`;
  const loose = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: partner, namespace: a}
spec:
  hosts: [api, api.a, partner.example.com]
  http: [{route: [{destination: {host: api}}]}]
`;
  const domainsFor = (yaml: string, ns: string) => {
    const gen = createGenerator(modelOf(yaml), routeBuilders);
    const rc = routesOf(allResources(gen, sidecarNode('10.200.1.1', 'client', ns)), '9080');
    return new Map(rc.virtualHosts.map((v) => [v.name, v.domains]));
  };

  test('the first service (by hostname) keeps a domain; the later one loses it, in every namespace', () => {
    for (const ns of ['a', 'b']) {
      const d = domainsFor(collide, ns);
      assert.deepEqual(d.get('web.a:9080'), ['web.a', 'web.a:9080', '10.96.0.1', '10.96.0.1:9080']);
      const web = d.get('web.a.svc.cluster.local:9080')!;
      assert.ok(!web.includes('web.a') && !web.includes('10.96.0.1') && web.includes('web.a.svc.cluster.local'), `${ns}: ${web.join(' ')}`);
      // api shares nothing and keeps all its domains.
      assert.ok(d.get('api.a.svc.cluster.local:9080')!.includes('api.a'));
    }
  });

  test('a VirtualService host that names no service gets only the domains no service has', () => {
    const d = domainsFor(service('api', 'a', '10.96.0.2') + loose, 'b');
    // "api.a" is api's own short form: the service keeps it, so no loose virtual host for it.
    assert.ok(d.get('api.a.svc.cluster.local:9080')!.includes('api.a'));
    assert.equal(d.get('api.a:9080'), undefined);
    assert.deepEqual(d.get('partner.example.com:9080'), ['partner.example.com', 'partner.example.com:9080']);
  });
});

describe('encodeWithParts', () => {
  test('a message-typed field 1 (LocalityLbEndpoints.locality) and fields after the list', () => {
    const lb = (ip: string) => create(LbEndpointSchema, { loadBalancingWeight: 2, hostIdentifier: { case: 'endpoint', value: create(EndpointSchema, { hostname: ip }) } });
    const withLocality = create(LocalityLbEndpointsSchema, { locality: create(LocalitySchema, { region: 'eu', zone: 'a' }), lbEndpoints: [lb('10.0.0.1'), lb('10.0.0.2')], loadBalancingWeight: 4, priority: 1 });
    const without = create(LocalityLbEndpointsSchema, { lbEndpoints: [lb('10.0.0.3')] });
    for (const m of [withLocality, without]) {
      const e = encodeWithParts(LocalityLbEndpointsSchema, m, 'lbEndpoints', (x: LbEndpoint) => toBinary(LbEndpointSchema, x));
      assert.deepEqual(e.bytes, toBinary(LocalityLbEndpointsSchema, m));
      assert.equal(e.parts.length, m.lbEndpoints.length);
    }
  });

  test('a schema without that layout falls back to toBinary', () => {
    const cla = create(ClusterLoadAssignmentSchema, { clusterName: 'c' });
    // ClusterLoadAssignment's field 2 is endpoints, not "namedEndpoints": no parts, the whole message.
    const e = encodeWithParts(ClusterLoadAssignmentSchema, cla, 'namedEndpoints', () => new Uint8Array(0));
    assert.deepEqual(e.bytes, toBinary(ClusterLoadAssignmentSchema, cla));
    assert.equal(e.parts.length, 0);
  });
});
