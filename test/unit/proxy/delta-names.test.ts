/**
 * The names of a Delta request (src/proxy/xds-client/delta-names.ts) and the
 * client's on-demand entry point: "*" with the first on-demand name on a
 * stream (the legacy wildcard would end otherwise), each name once, all of
 * them again on a new stream; SotW and non-wildcard types cannot.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deltaNames, WILDCARD } from '../../../src/proxy/xds-client/delta-names.js';
import { TypeState } from '../../../src/proxy/xds-client/type-state.js';
import { clusterType, endpointType, proxyTypes } from '../../../src/proxy/xds-client/proxy-types.js';
import { XdsClient } from '../../../src/proxy/xds-client/ads-client.js';
import { buildNode } from '../../../src/proxy/xds-client/node-info.js';

/** Applies a request's names as the client does (what was sent becomes the next diff's base). */
function send(st: TypeState): { subscribe: string[]; unsubscribe: string[] } {
  const n = deltaNames(st);
  st.sent = n.sent;
  return { subscribe: n.subscribe, unsubscribe: n.unsubscribe };
}

describe('Delta request names', () => {
  test('a wildcard type starts with the legacy wildcard: no names', () => {
    assert.deepEqual(send(new TypeState(clusterType, undefined)), { subscribe: [], unsubscribe: [] });
  });

  test('on-demand names go with "*" the first time, then each new name alone; a new stream names them all again', () => {
    const st = new TypeState(clusterType, undefined);
    send(st);
    st.onDemand.add('a');
    assert.deepEqual(send(st).subscribe, [WILDCARD, 'a']);
    st.onDemand.add('b');
    assert.deepEqual(send(st).subscribe, ['b']);
    assert.deepEqual(send(st).subscribe, [], 'nothing new');
    // Asked again (a new discovery after "absent"): the client forgets it sent it.
    st.sent.delete('a');
    assert.deepEqual(send(st).subscribe, ['a']);
    st.sent = new Set();
    assert.deepEqual(send(st), { subscribe: [WILDCARD, 'a', 'b'], unsubscribe: [] }, 'reconnect');
  });

  test('explicit types diff their names as before', () => {
    const st = new TypeState(endpointType, undefined);
    st.names = new Set(['x', 'y']);
    assert.deepEqual(send(st), { subscribe: ['x', 'y'], unsubscribe: [] });
    st.names = new Set(['y', 'z']);
    assert.deepEqual(send(st), { subscribe: ['z'], unsubscribe: ['x'] });
  });
});

test('subscribeOnDemand: Delta CDS only; SotW and explicit types answer unsupported at once', () => {
  const node = buildNode('sidecar~1.1.1.1~p.ns~ns.svc.cluster.local', {});
  const client = (protocol: 'delta' | 'sotw') => new XdsClient({ address: '127.0.0.1:1', node, protocol, types: proxyTypes, handlers: [] });
  const delta = client('delta');
  assert.equal(delta.subscribeOnDemand(clusterType, ['c']), 'requested');
  assert.deepEqual([...delta.state(clusterType.typeUrl)!.onDemand], ['c'], 'kept for the stream to come');
  assert.equal(delta.subscribeOnDemand(endpointType, ['c']), 'unsupported');
  const sotw = client('sotw');
  assert.equal(sotw.subscribeOnDemand(clusterType, ['c']), 'unsupported');
  assert.equal(sotw.state(clusterType.typeUrl)!.onDemand.size, 0);
});
