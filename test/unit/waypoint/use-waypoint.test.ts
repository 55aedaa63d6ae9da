/**
 * The workload API's `waypoint` field as istiod binds istio.io/use-waypoint
 * (namespace < Service / Pod, `none` opting out, waypoint-for), and the
 * fail-closed departure: a waypoint that does not exist or is not ready is
 * still referenced, and a finding names it. The waypoint's own pods are sent
 * (native tunnel, no waypoint, no policy) so node proxies can reach them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { AddressSchema, type Address } from '../../../src/gen/workloadapi/workload_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { analyzeConfig } from '../../../src/controlplane/analyze/analyze.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import { modelOf, stateOf, testRoutes } from '../translate/helpers.js';
import { waypointYaml } from './fixture.js';

const apps = (nsLabels: string, svcLabels = '{}', podLabels = '{app: web}') => `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient${nsLabels}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: ${svcLabels}}
spec: {clusterIP: 10.96.5.1, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: ${podLabels}}
status: {podIP: 10.1.0.5, phase: Running, conditions: [{type: Ready, status: "True"}]}
`;

const ztunnel = parseNodeId('ztunnel~10.0.0.100~ztunnel-abc.istio-system~istio-system.svc.cluster.local');
const wpJson = (ns: string, name: string) => ({ hostname: { namespace: ns, hostname: `${name}.${ns}.svc.cluster.local` }, hboneMtlsPort: 15008 });

function waypoints(yaml: string): { svc: unknown; pod: unknown; wpSvc: unknown } {
  const set = createGenerator(modelOf(yaml), testRoutes).generate(ztunnel, TypeUrl.Address, undefined);
  const json = (n: string, required = true) => {
    const a = set.get(n)?.message as Address | undefined;
    if (!a && !required) return {};
    assert.ok(a, `${n} is sent`);
    return (toJson(AddressSchema, a) as { workload?: { waypoint?: unknown }; service?: { waypoint?: unknown } });
  };
  return {
    svc: json('shop/web.shop.svc.cluster.local').service?.waypoint,
    pod: json('Kubernetes//Pod/shop/web-1').workload?.waypoint,
    wpSvc: json('shop/wp.shop.svc.cluster.local', false).service?.waypoint,
  };
}

const problems = (yaml: string) => analyzeConfig(stateOf(yaml).objects.values(), modelOf(yaml)).filter((p) => /waypoint/i.test(p.reason));

test('a namespace use-waypoint binds its Services (the default waypoint-for: service), not its workloads, nor the waypoint itself', () => {
  const yaml = apps(', istio.io/use-waypoint: wp') + '---' + waypointYaml();
  const w = waypoints(yaml);
  assert.deepEqual(w.svc, wpJson('shop', 'wp'));
  assert.equal(w.pod, undefined, 'inherited by a workload from a service waypoint: none, and no finding');
  assert.equal(w.wpSvc, undefined, 'the waypoint\'s own Service has no waypoint');
  assert.deepEqual(problems(yaml), []);
});

test('the waypoint\'s pod is sent, although not ambient, as a native-tunnel workload of its Service, so a node proxy resolves the GatewayAddress to it', () => {
  const set = createGenerator(modelOf(apps(', istio.io/use-waypoint: wp') + '---' + waypointYaml()), testRoutes).generate(ztunnel, TypeUrl.Address, undefined);
  const a = set.get('Kubernetes//Pod/shop/wp-1')?.message as Address | undefined;
  assert.ok(a, 'the waypoint pod is in the workload API');
  const w = toJson(AddressSchema, a) as { workload: Record<string, unknown> };
  assert.deepEqual([w.workload.tunnelProtocol, w.workload.nativeTunnel, w.workload.status, w.workload.waypoint, w.workload.authorizationPolicies],
    ['HBONE', true, undefined, undefined, undefined], 'HBONE, natively, healthy (the default), no waypoint of its own, no policy');
  assert.deepEqual(Object.keys(w.workload.services as object), ['shop/wp.shop.svc.cluster.local']);
  const plain = waypointYaml().replace('gateway.networking.k8s.io/gateway-name: wp, istio.io', 'app: other, istio.io');
  assert.equal(createGenerator(modelOf(apps('') + '---' + plain), testRoutes).generate(ztunnel, TypeUrl.Address, undefined).get('Kubernetes//Pod/shop/wp-1'), undefined,
    'a pod opted out of ambient that is no waypoint\'s is not sent');
});

test('precedence: Service and Pod labels over the namespace; none opts out; use-waypoint-namespace names another namespace', () => {
  const all = waypointYaml().replace('gatewayClassName: istio-waypoint', 'gatewayClassName: istio-waypoint\n  # all').replace('metadata: {name: wp, namespace: shop}', 'metadata: {name: wp, namespace: shop, labels: {istio.io/waypoint-for: all}}');
  const other = all.replaceAll('namespace: shop', 'namespace: infra').replaceAll('wp', 'wp2').replace('10.96.9.9', '10.96.9.10').replace('10.1.0.99', '10.1.0.98');
  const crossNs = other.replace('listeners: [{name: mesh, port: 15008, protocol: HBONE}]', 'listeners: [{name: mesh, port: 15008, protocol: HBONE, allowedRoutes: {namespaces: {from: All}}}]');
  let w = waypoints(apps(', istio.io/use-waypoint: wp', '{istio.io/use-waypoint: none}', '{app: web, istio.io/use-waypoint: wp2, istio.io/use-waypoint-namespace: infra}') + '---' + all + '---' + crossNs);
  assert.equal(w.svc, undefined, 'Service none beats the namespace');
  assert.deepEqual(w.pod, wpJson('infra', 'wp2'), 'the pod\'s own label beats the namespace\'s');
  w = waypoints(apps(', istio.io/use-waypoint: wp', '{}', '{app: web, istio.io/use-waypoint: none}') + '---' + all);
  assert.deepEqual(w.svc, wpJson('shop', 'wp'));
  assert.equal(w.pod, undefined, 'pod none beats an all-traffic namespace waypoint');
  w = waypoints(apps(', istio.io/use-waypoint: wp') + '---' + all);
  assert.deepEqual(w.pod, wpJson('shop', 'wp'), 'waypoint-for all: workloads inherit it too');
});

test('fail closed: a use-waypoint naming no Gateway, or a Gateway without a ready pod, is still sent, with a finding on the labelled object', () => {
  let yaml = apps('', '{istio.io/use-waypoint: ghost}');
  assert.deepEqual(waypoints(yaml).svc, wpJson('shop', 'ghost'));
  let p = problems(yaml);
  assert.equal(p.length, 1);
  assert.equal(p[0]!.code, 'IST0101');
  assert.match(p[0]!.reason, /^Service shop\/web: metadata\.labels\["istio\.io\/use-waypoint"\]: Referenced waypoint not found: "shop\/ghost" \(no Gateway of class istio-waypoint named "shop\/ghost"\); its traffic is refused \(the node proxy fails closed\)/);
  assert.ok(p[0]!.line > 0);

  yaml = apps(', istio.io/use-waypoint: wp') + '---' + waypointYaml(false);
  assert.deepEqual(waypoints(yaml).svc, wpJson('shop', 'wp'), 'not ready: still referenced');
  p = problems(yaml);
  assert.equal(p.length, 1, 'one finding, on the Namespace that carries the label');
  assert.equal(p[0]!.code, 'TRL0004');
  assert.equal(p[0]!.severity, 'Error');
  assert.match(p[0]!.reason, /^Namespace (default\/)?shop: .*WaypointIsNotReady: waypoint "shop\/wp" is not ready/);
});

test('a waypoint for services only, asked for by a pod itself, is not bound and says why; another namespace needs allowedRoutes', () => {
  let yaml = apps('', '{}', '{app: web, istio.io/use-waypoint: wp}') + '---' + waypointYaml();
  assert.equal(waypoints(yaml).pod, undefined);
  assert.match(problems(yaml)[0]!.reason, /^Pod shop\/web-1: .*UnsupportedTrafficType: attempting to bind to traffic type "workload" which the waypoint "shop\/wp" does not support/);
  yaml = apps('', '{istio.io/use-waypoint: wp, istio.io/use-waypoint-namespace: infra}') + '---' + waypointYaml().replaceAll('namespace: shop', 'namespace: infra');
  assert.equal(waypoints(yaml).svc, undefined);
  assert.match(problems(yaml)[0]!.reason, /AttachmentDenied: we are not permitted to attach to waypoint "infra\/wp"/);
});

test('a Gateway of class istio-waypoint is no longer reported as an unimplemented class', () => {
  const yaml = apps('') + '---' + waypointYaml();
  assert.deepEqual(analyzeConfig(stateOf(yaml).objects.values(), modelOf(yaml)).filter((p) => /GatewayClass/.test(p.reason)), []);
});
