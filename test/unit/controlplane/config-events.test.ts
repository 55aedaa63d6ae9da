import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyObject } from '../../../src/config/objects.js';
import { configEvents } from '../../../src/controlplane/metrics/config-events.js';

const obj = (apiVersion: string, kind: string, name: string, spec: unknown = {}, resourceVersion?: string): AnyObject =>
  ({ apiVersion, kind, metadata: { name, namespace: 'default', ...(resourceVersion ? { resourceVersion } : {}) }, spec }) as AnyObject;
const state = (...objects: AnyObject[]) => new Map(objects.map((o) => [`${o.kind}/default/${o.metadata.name}`, o]));

test('config events: add, update (contents or resourceVersion), delete; equal re-parsed objects and registry kinds are no events', () => {
  const vs = obj('networking.istio.io/v1', 'VirtualService', 'a', { hosts: ['a'] });
  const dr = obj('networking.istio.io/v1', 'DestinationRule', 'a', { host: 'a' }, '1');
  const route = obj('gateway.networking.k8s.io/v1', 'HTTPRoute', 'r');
  const pa = obj('security.istio.io/v1', 'PeerAuthentication', 'p');
  const svc = obj('v1', 'Service', 'a');
  assert.deepEqual(configEvents(new Map(), state(vs, dr, route, svc)), [
    { type: 'VirtualService', event: 'add' },
    { type: 'DestinationRule', event: 'add' },
    { type: 'HTTPRoute', event: 'add' },
  ]);
  const before = state(vs, dr, route, pa, svc);
  const after = state(
    obj('networking.istio.io/v1', 'VirtualService', 'a', { hosts: ['a'] }), // re-parsed, equal
    obj('networking.istio.io/v1', 'DestinationRule', 'a', { host: 'a' }, '2'), // same contents, new resourceVersion
    obj('gateway.networking.k8s.io/v1', 'HTTPRoute', 'r', { parentRefs: [] }),
    obj('v1', 'Service', 'a', { ports: [] }),
  );
  assert.deepEqual(configEvents(before, after), [
    { type: 'DestinationRule', event: 'update' },
    { type: 'HTTPRoute', event: 'update' },
    { type: 'PeerAuthentication', event: 'delete' },
  ]);
});
