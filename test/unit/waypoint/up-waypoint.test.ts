/**
 * `trellis up` and waypoints: a Gateway of class istio-waypoint gets the
 * Deployment and Service istiod's deployment controller makes, whose pod is
 * recognised as that waypoint's; and the control plane then sees the
 * waypoint ready (its Service has the pod) and binds its services.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waypointServed, withWaypoints } from '../../../src/local/up/gateways.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { waypointIndex } from '../../../src/controlplane/translate/ambient/waypoints.js';
import { stateOf } from '../translate/helpers.js';

const gateway = (cls = 'istio-waypoint') => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp, namespace: shop}
spec:
  gatewayClassName: ${cls}
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`;

test('a waypoint Gateway gets Deployment and Service wp (15008, 15021) with istiod\'s labels; its pods are that waypoint\'s', () => {
  const objects = stateOf(gateway()).objects;
  const { objects: all, added } = withWaypoints(objects);
  assert.deepEqual(added.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`), ['Deployment shop/wp', 'Service shop/wp']);
  const svc = added[1] as { spec: { selector: Record<string, string>; ports: { port: number }[] }; metadata: { labels: Record<string, string> } };
  assert.deepEqual(svc.spec.ports.map((p) => p.port), [15021, 15008]);
  assert.equal(svc.metadata.labels['gateway.istio.io/managed'], 'istio.io-mesh-controller');
  const podLabels = (added[0] as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
  assert.equal(podLabels['istio.io/dataplane-mode'], 'none', 'the waypoint itself is not captured by the node proxy');
  assert.equal(waypointServed(all.values(), 'shop', podLabels), 'shop/wp');
  assert.equal(waypointServed(all.values(), 'other', podLabels), undefined);
  assert.equal(withWaypoints(all).added.length, 0, 'nothing twice');
  assert.equal(withWaypoints(stateOf(gateway('istio')).objects).added.length, 0, 'an ingress Gateway is not a waypoint');
});

test('once its pod is up (a ready Pod selected by the added Service), the control plane sees the waypoint ready', () => {
  const { objects } = withWaypoints(stateOf(gateway()).objects);
  const withPod = new Map(objects);
  withPod.set('Pod/shop/wp-1', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wp-1', namespace: 'shop', labels: { 'gateway.networking.k8s.io/gateway-name': 'wp' } },
    status: { podIP: '10.1.0.99', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  } as never);
  const before = waypointIndex(buildModel({ objects, problems: [], revision: 1 })).get('shop/wp');
  const after = waypointIndex(buildModel({ objects: withPod, problems: [], revision: 2 })).get('shop/wp');
  assert.equal(before?.ready, false);
  assert.equal(after?.ready, true);
});
