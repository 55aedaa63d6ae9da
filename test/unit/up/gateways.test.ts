/**
 * `trellis up`'s ingress gateways, planned from the config (issue 13,
 * item 7): which workloads are gateway pods, Istio's default ingress gateway
 * for bookinfo-gateway.yaml, the ports published on 127.0.0.1 and the URL
 * the output suggests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_INGRESS_LABELS, gatewayPorts, gatewaysSelecting, gatewayUrls, withDefaultIngress } from '../../../src/local/up/gateways.js';
import { stateOf } from '../translate/helpers.js';

/** bookinfo-gateway.yaml as in Istio's samples (port 8080 since Istio 1.19; 80 before). */
const bookinfoGateway = (port = 8080) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match:
    - uri: {exact: /productpage}
    - uri: {prefix: /static}
    route:
    - destination: {host: productpage, port: {number: 9080}}
`;

const app = `
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: productpage}
spec:
  selector: {matchLabels: {app: productpage}}
  template:
    metadata: {labels: {app: productpage}}
    spec: {containers: [{name: app, command: [node, app.js]}]}
`;

test('bookinfo-gateway without a gateway workload gets Istio\'s default ingress gateway: Deployment and Service in istio-system, 80 → 8080, 443 → 8443', () => {
  const { objects, added } = withDefaultIngress(stateOf(bookinfoGateway() + app).objects);
  assert.deepEqual(added.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`), ['Deployment/istio-system/istio-ingressgateway', 'Service/istio-system/istio-ingressgateway']);
  assert.ok(objects.has('Deployment/istio-system/istio-ingressgateway'));
  const ports = gatewayPorts(objects.values(), 'istio-system', DEFAULT_INGRESS_LABELS);
  assert.deepEqual(ports, [{ port: 8080, protocol: 'HTTP', gateway: 'default/bookinfo-gateway' }]);
  // The older sample's port 80 lands on the same listener through the Service.
  const old = withDefaultIngress(stateOf(bookinfoGateway(80) + app).objects).objects;
  assert.deepEqual(gatewayPorts(old.values(), 'istio-system', DEFAULT_INGRESS_LABELS).map((p) => p.port), [8080]);
  assert.deepEqual(gatewayUrls(objects.values(), ports), ['bookinfo at http://127.0.0.1:8080/productpage']);
});

test('no default when a workload of the config is the gateway, or when no Gateway wants istio=ingressgateway', () => {
  const own = `
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-gateway, namespace: edge}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec: {containers: [{name: istio-proxy, image: auto}]}
`;
  const state = stateOf(bookinfoGateway() + app + own).objects;
  assert.deepEqual(withDefaultIngress(state).added, []);
  assert.equal(gatewaysSelecting(state.values(), { istio: 'ingressgateway', 'pod-template-hash': 'x' }).length, 1);
  assert.equal(gatewaysSelecting(state.values(), { app: 'productpage' }).length, 0, 'an app is not a gateway');
  assert.deepEqual(withDefaultIngress(stateOf(app).objects).added, []);
});

test('a Gateway with an empty selector makes no pod a gateway', () => {
  const text = bookinfoGateway().replace('selector: {istio: ingressgateway}', 'selector: {}');
  const state = stateOf(text + app).objects;
  assert.equal(gatewaysSelecting(state.values(), { app: 'productpage' }).length, 0);
  assert.deepEqual(withDefaultIngress(state).added, []);
});
