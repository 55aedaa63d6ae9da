/**
 * DestinationRule workloadSelector (Istio 1.14+, issue 13): a rule with a
 * selector applies to the proxies of its own namespace whose labels it
 * selects, before the namespace's rule without one (istiod's
 * SidecarScope.DestinationRule); proxies that select different rules never
 * share clusters or routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_LbPolicy } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { bookinfo, modelOf, sidecarNode } from './helpers.js';

const reviews = 'reviews.default.svc.cluster.local';
const pod = (name: string, ns: string, ip: string, app: string) => `
---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${app}}}
status: {podIP: ${ip}, phase: Running}`;
const rule = (name: string, ns: string, extra: string) => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}}
spec:
  host: reviews.default.svc.cluster.local
${extra}`;
const pods = pod('productpage', 'default', '10.7.0.1', 'productpage') + pod('details', 'default', '10.7.0.2', 'details')
  + pod('productpage-2', 'default', '10.7.0.3', 'productpage') + pod('outsider', 'other', '10.7.1.1', 'productpage');

function setup(rules: string) {
  const model = modelOf(bookinfo + pods + rules);
  const gen = createGenerator(model, routeBuilders);
  const node = (ip: string, name: string, ns = 'default') => sidecarNode(ip, name, ns);
  const lb = (n: ProxyNode) => anyUnpack(gen.generate(n, TypeUrl.Cluster, undefined).get(`outbound|9080||${reviews}`)!.any, ClusterSchema)!.lbPolicy;
  const clusters = (n: ProxyNode) => gen.generate(n, TypeUrl.Cluster, undefined);
  return { model, gen, node, lb, clusters };
}

const plain = rule('plain', 'default', '  trafficPolicy: {loadBalancer: {simple: RANDOM}}');
const scoped = rule('scoped', 'default', '  workloadSelector: {matchLabels: {app: productpage}}\n  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}');

test('a selecting rule wins over the plain one for the proxies it selects; others keep the plain one', () => {
  const s = setup(plain + scoped);
  assert.equal(s.lb(s.node('10.7.0.1', 'productpage')), Cluster_LbPolicy.LEAST_REQUEST);
  assert.equal(s.lb(s.node('10.7.0.2', 'details')), Cluster_LbPolicy.RANDOM);
  // Proxies selecting the same rules share one cluster set; the others have their own.
  assert.equal(s.clusters(s.node('10.7.0.1', 'productpage')), s.clusters(s.node('10.7.0.3', 'productpage-2')));
  assert.notEqual(s.clusters(s.node('10.7.0.1', 'productpage')), s.clusters(s.node('10.7.0.2', 'details')));
});

test('a selecting rule applies only to proxies of its own namespace', () => {
  const s = setup(plain + scoped);
  // From namespace "other" the service namespace's rules are the candidates; the selecting one is not for it.
  assert.equal(s.model.selectedDestinationRules('other', { app: 'productpage' }), undefined);
  assert.equal(s.lb(s.node('10.7.1.1', 'outsider', 'other')), Cluster_LbPolicy.RANDOM);
});

test('a namespace with only selecting rules for the host hides later namespaces: unselected proxies get no rule (as istiod)', () => {
  const s = setup(rule('plain', 'istio-system', '  trafficPolicy: {loadBalancer: {simple: RANDOM}}') + scoped);
  assert.equal(s.lb(s.node('10.7.0.1', 'productpage')), Cluster_LbPolicy.LEAST_REQUEST);
  assert.equal(s.lb(s.node('10.7.0.2', 'details')), Cluster_LbPolicy.ROUND_ROBIN);
  // From another namespace too: the service namespace's (selecting) rule is found first, and is not for it.
  assert.equal(s.lb(s.node('10.7.1.1', 'outsider', 'other')), Cluster_LbPolicy.ROUND_ROBIN);
  // Without the selecting rule the root namespace's applies everywhere.
  const root = setup(rule('plain', 'istio-system', '  trafficPolicy: {loadBalancer: {simple: RANDOM}}'));
  assert.equal(root.lb(root.node('10.7.0.2', 'details')), Cluster_LbPolicy.RANDOM);
});

test('routes read the selected rule too (consistent-hash policy), and differ only where the rules differ', () => {
  const vs = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}]}]`;
  const s = setup(vs + rule('scoped', 'default', '  workloadSelector: {matchLabels: {app: productpage}}\n  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}'));
  const hash = (n: ProxyNode) => {
    const rc = anyUnpack(s.gen.generate(n, TypeUrl.RouteConfiguration, new Set(['9080'])).get('9080')!.any, RouteConfigurationSchema)!;
    const vh = rc.virtualHosts.find((v) => v.name === `${reviews}:9080`)!;
    const r = vh.routes[0]!;
    return r.action.case === 'route' ? r.action.value.hashPolicy.length : -1;
  };
  assert.equal(hash(s.node('10.7.0.1', 'productpage')), 1);
  assert.equal(hash(s.node('10.7.0.2', 'details')), 0);
});

test('the model: selectedDestinationRules names the rules that select, none for an unselected proxy', () => {
  const s = setup(plain + scoped);
  assert.equal(s.model.selectedDestinationRules('default', { app: 'productpage' })?.key, 'default/scoped');
  assert.equal(s.model.selectedDestinationRules('default', { app: 'details' }), undefined);
  assert.equal(s.model.selectedDestinationRules('other', { app: 'productpage' }), undefined);
});
