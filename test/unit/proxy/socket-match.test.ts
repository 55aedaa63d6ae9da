/** transport_socket_matches resolution (Envoy's TransportSocketMatcherImpl::resolve) and listener filter predicates. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { equal, resolveSocket, type SocketMatch } from '../../../src/proxy/upstream/socket-match.js';
import { compileListenerFilters } from '../../../src/proxy/listener/listener-filters.js';
import { ListenerFilterSchema } from '../../../src/gen/envoy/config/listener/v3/listener_components_pb.js';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TlsInspectorSchema } from '../../../src/gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { HttpInspectorSchema } from '../../../src/gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';

const m = (name: string, match: SocketMatch['match']): SocketMatch => ({ name, match, tls: undefined });
// Istio's auto-mTLS pair: tlsMode istio gets mTLS, everything else plaintext.
const istio = [m('tlsMode-istio', { tlsMode: 'istio' }), m('tlsMode-disabled', {})];

describe('transport socket matches', () => {
  test('the first match whose labels are a subset of the endpoint metadata', () => {
    assert.equal(resolveSocket(istio, { tlsMode: 'istio', other: 'x' }, undefined), 0);
    assert.equal(resolveSocket(istio, { tlsMode: 'disabled' }, undefined), 1);
    assert.equal(resolveSocket(istio, undefined, undefined), 1, 'an empty match matches an endpoint without metadata');
  });
  test('locality metadata is tried only when no match fits the endpoint\'s own', () => {
    const only = [m('tls', { tlsMode: 'istio' })];
    assert.equal(resolveSocket(only, undefined, { tlsMode: 'istio' }), 0);
    assert.equal(resolveSocket(only, { tlsMode: 'disabled' }, { tlsMode: 'istio' }), 0);
    assert.equal(resolveSocket(istio, { tlsMode: 'disabled' }, { tlsMode: 'istio' }), 1, 'the endpoint matched the empty match first');
    assert.equal(resolveSocket(only, { tlsMode: 'disabled' }, undefined), -1, 'none: the cluster\'s transport socket');
  });
  test('values compare as protobuf Values: kind and content, deeply', () => {
    assert.equal(equal(1, 1), true);
    assert.equal(equal('1', 1), false);
    assert.equal(equal({ a: [1, { b: null }] }, { a: [1, { b: null }] }), true);
    assert.equal(equal({ a: [1] }, { a: [1, 2] }), false);
    assert.equal(equal({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(resolveSocket([m('n', { v: 2 })], { v: '2' }, undefined), -1);
  });
});

describe('listener filters', () => {
  const tls = (filterDisabled?: object) => create(ListenerFilterSchema, { name: 'envoy.filters.listener.tls_inspector', configType: { case: 'typedConfig', value: anyPack(TlsInspectorSchema, create(TlsInspectorSchema)) }, filterDisabled } as never);
  const http = (filterDisabled?: object) => create(ListenerFilterSchema, { name: 'envoy.filters.listener.http_inspector', configType: { case: 'typedConfig', value: anyPack(HttpInspectorSchema, create(HttpInspectorSchema)) }, filterDisabled } as never);
  const range = (start: number, end: number) => ({ rule: { case: 'destinationPortRange', value: { start, end } } });

  test('istiod\'s filter_disabled port predicates turn an inspector off per destination port', () => {
    const errors: string[] = [];
    const excl = { rule: { case: 'orMatch', value: { rules: [range(8080, 8081), range(9090, 9091)] } } };
    const i = compileListenerFilters([tls({ rule: { case: 'notMatch', value: range(15006, 15007) } }), http(excl)], 'lf', errors);
    assert.deepEqual(errors, []);
    assert.deepEqual([8080, 9090, 7070].map((p) => i.http?.(p)), [false, false, true]);
    assert.deepEqual([15006, 80].map((p) => i.tls?.(p)), [true, false]);
  });
  test('without an inspector nothing is inspected; unknown listener filters are refused', () => {
    const errors: string[] = [];
    const i = compileListenerFilters([], 'lf', errors);
    assert.deepEqual([i.tls, i.http], [undefined, undefined]);
    compileListenerFilters([create(ListenerFilterSchema, { name: 'envoy.filters.listener.proxy_protocol', configType: { case: 'typedConfig', value: { typeUrl: 'type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol', value: new Uint8Array() } } } as never)], 'lf', errors);
    assert.match(errors.join(), /lf\[0\]: unsupported listener filter envoy\.filters\.listener\.proxy_protocol/);
  });
});
