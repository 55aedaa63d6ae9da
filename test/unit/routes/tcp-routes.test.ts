/** VirtualService tcp and tls routes → TcpProxy filters for outbound TCP listeners. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBinary, toBinary, toJson, equals } from '@bufbuild/protobuf';
import { buildTcpProxy, buildTlsFilterChainMatches } from '../../../src/controlplane/translate/routes/index.js';
import { TcpProxySchema, type TcpProxy } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import { bookinfo, fqdn, scopeOf } from './fixture.js';

const mongo = fqdn('mongo');

function checked(p: TcpProxy): TcpProxy {
  assert.ok(equals(TcpProxySchema, p, fromBinary(TcpProxySchema, toBinary(TcpProxySchema, p))));
  toJson(TcpProxySchema, p, { registry: xdsRegistry });
  return p;
}

function tcpFor(spec: string, port = 27017, labels?: Record<string, string>): TcpProxy {
  const y = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mongo, namespace: default}
spec:
  hosts: [mongo]
${spec.replace(/^/gm, '  ')}
`;
  const model = bookinfo(y);
  return checked(buildTcpProxy(scopeOf(model, 'default', labels), model.service(mongo)!, port));
}

describe('buildTcpProxy', () => {
  test('no VirtualService → outbound|PORT||HOST, statPrefix = cluster name', () => {
    const model = bookinfo();
    const p = checked(buildTcpProxy(scopeOf(model), model.service(mongo)!, 27017));
    assert.deepEqual([p.statPrefix, p.clusterSpecifier.case, p.clusterSpecifier.value], [`outbound|27017||${mongo}`, 'cluster', `outbound|27017||${mongo}`]);
  });

  test('single destination', () => {
    const p = tcpFor('tcp:\n- route: [{destination: {host: mongo, subset: primary}}]');
    assert.deepEqual([p.clusterSpecifier.value, p.statPrefix], [`outbound|27017|primary|${mongo}`, `outbound|27017|primary|${mongo}`]);
  });

  test('weighted destinations → weightedClusters', () => {
    const p = tcpFor('tcp:\n- route: [{destination: {host: mongo, subset: a}, weight: 80}, {destination: {host: mongo, subset: b}, weight: 20}]');
    assert.equal(p.clusterSpecifier.case, 'weightedClusters');
    const ws = p.clusterSpecifier.case === 'weightedClusters' ? p.clusterSpecifier.value.clusters : [];
    assert.deepEqual(ws.map((w) => [w.name, w.weight]), [[`outbound|27017|a|${mongo}`, 80], [`outbound|27017|b|${mongo}`, 20]]);
    assert.equal(p.statPrefix, `outbound|27017||${mongo}`);
  });

  test('the first tcp route whose match applies to the port wins', () => {
    const spec = 'tcp:\n- match: [{port: 1111}]\n  route: [{destination: {host: mongo, subset: wrong}}]\n- match: [{port: 27017}]\n  route: [{destination: {host: mongo, subset: right}}]\n- route: [{destination: {host: mongo, subset: later}}]';
    assert.equal(tcpFor(spec).clusterSpecifier.value, `outbound|27017|right|${mongo}`);
  });

  test('sourceLabels decide whether a tcp route applies to this proxy', () => {
    const spec = 'tcp:\n- match: [{sourceLabels: {app: batch}}]\n  route: [{destination: {host: mongo, subset: batch}}]';
    assert.equal(tcpFor(spec, 27017, { app: 'batch' }).clusterSpecifier.value, `outbound|27017|batch|${mongo}`);
    assert.equal(tcpFor(spec, 27017, { app: 'web' }).clusterSpecifier.value, `outbound|27017||${mongo}`);
  });
});

describe('buildTlsFilterChainMatches', () => {
  test('sniHosts become server names, in order, without repeats', () => {
    const spec = `tls:
- match: [{port: 27017, sniHosts: [a.mongo.example, b.mongo.example]}]
  route: [{destination: {host: mongo, subset: ab}}]
- match: [{sniHosts: [b.mongo.example, c.mongo.example]}]
  route: [{destination: {host: mongo, subset: c}}]
- match: [{port: 1, sniHosts: [d.mongo.example]}]
  route: [{destination: {host: mongo, subset: d}}]`;
    const y = `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: m, namespace: default}\nspec:\n  hosts: [mongo]\n${spec.replace(/^/gm, '  ')}\n`;
    const model = bookinfo(y);
    const chains = buildTlsFilterChainMatches(scopeOf(model), model.service(mongo)!, 27017);
    assert.deepEqual(chains.map((c) => [c.serverNames, checked(c.tcpProxy).clusterSpecifier.value]), [
      [['a.mongo.example', 'b.mongo.example'], `outbound|27017|ab|${mongo}`],
      [['c.mongo.example'], `outbound|27017|c|${mongo}`],
    ]);
  });

  test('no tls routes → no SNI chains', () => {
    const model = bookinfo();
    assert.deepEqual(buildTlsFilterChainMatches(scopeOf(model), model.service(mongo)!, 27017), []);
  });
});
