import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { FilterChainMatchSchema } from '../../../src/gen/envoy/config/listener/v3/listener_components_pb.js';
import { compileMatch, ipToBigInt, selectChain, type MatchInput } from '../../../src/proxy/listener/chain-match.js';

function chains(specs: Array<[string, Record<string, unknown>]>) {
  return specs.map(([name, m]) => {
    const errors: string[] = [];
    const match = compileMatch(create(FilterChainMatchSchema, m as never), name, errors);
    assert.deepEqual(errors, []);
    return { name, match };
  });
}

const input = (o: Partial<MatchInput>): MatchInput => ({ port: 80, address: '10.0.0.1', serverName: '', transportProtocol: 'raw_buffer', applicationProtocols: [], ...o });

describe('filter chain match: most specific wins, in Envoy order', () => {
  const cs = chains([
    ['any', {}],
    ['port-9080', { destinationPort: 9080 }],
    ['port-9080-net', { destinationPort: 9080, prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }] }],
    ['port-9080-host', { destinationPort: 9080, prefixRanges: [{ addressPrefix: '10.1.2.3', prefixLen: 32 }] }],
    ['tls-sni', { destinationPort: 443, transportProtocol: 'tls', serverNames: ['api.example.com'] }],
    ['tls-wild', { destinationPort: 443, transportProtocol: 'tls', serverNames: ['*.example.com'] }],
    ['tls', { destinationPort: 443, transportProtocol: 'tls' }],
    ['http', { destinationPort: 8000, applicationProtocols: ['http/1.1', 'h2c'] }],
    ['raw', { destinationPort: 8000 }],
  ]);
  const pick = (o: Partial<MatchInput>) => selectChain(cs, input(o))?.name;

  test('port then longest prefix', () => {
    assert.equal(pick({ port: 1 }), 'any');
    assert.equal(pick({ port: 9080, address: '192.168.0.1' }), 'port-9080');
    assert.equal(pick({ port: 9080, address: '10.9.9.9' }), 'port-9080-net');
    assert.equal(pick({ port: 9080, address: '10.1.2.3' }), 'port-9080-host');
  });
  test('server names: exact, then wildcard, then none', () => {
    assert.equal(pick({ port: 443, transportProtocol: 'tls', serverName: 'api.example.com' }), 'tls-sni');
    assert.equal(pick({ port: 443, transportProtocol: 'tls', serverName: 'www.example.com' }), 'tls-wild');
    assert.equal(pick({ port: 443, transportProtocol: 'tls', serverName: 'other.org' }), 'tls');
  });
  test('application protocols from detection', () => {
    assert.equal(pick({ port: 8000, applicationProtocols: ['h2c'] }), 'http');
    assert.equal(pick({ port: 8000 }), 'raw');
  });
  test('no backtracking: a port-specific chain that fails later does not fall back to the wildcard port', () => {
    // port 443 chains all require tls; a plaintext connection matches none of them.
    assert.equal(pick({ port: 443, transportProtocol: 'raw_buffer' }), undefined);
  });
  test('IPv6 prefixes', () => {
    const v6 = chains([['v6', { prefixRanges: [{ addressPrefix: 'fd00::', prefixLen: 8 }] }], ['all', {}]]);
    assert.equal(selectChain(v6, input({ address: 'fd12::1' }))?.name, 'v6');
    assert.equal(selectChain(v6, input({ address: '10.0.0.1' }))?.name, 'all');
    assert.equal(ipToBigInt('::1'), 1n);
  });
});

describe('filter chain match: Istio\'s PERMISSIVE inbound chains', () => {
  // The five chains istiod builds for a port with protocol sniffing (inboundPermissiveFilterChainMatchWithMxcOptions).
  const cs = chains([
    ['tcp-mtls', { destinationPort: 8080, transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'] }],
    ['http-mtls', { destinationPort: 8080, transportProtocol: 'tls', applicationProtocols: ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] }],
    ['http-plain', { destinationPort: 8080, transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] }],
    ['tcp-plain', { destinationPort: 8080, transportProtocol: 'raw_buffer' }],
    ['tls-passthrough', { destinationPort: 8080, transportProtocol: 'tls' }],
  ]);
  const pick = (o: Partial<MatchInput>) => selectChain(cs, input({ port: 8080, ...o }))?.name;

  test('the first ALPN the client offers that a chain names decides, whatever the chain order', () => {
    // An Istio client sends ["istio-http/1.1", "istio"]: both the HTTP and the TCP mTLS chain name one of them.
    assert.equal(pick({ transportProtocol: 'tls', applicationProtocols: ['istio-http/1.1', 'istio'] }), 'http-mtls');
    assert.equal(pick({ transportProtocol: 'tls', applicationProtocols: ['istio', 'istio-http/1.1'] }), 'tcp-mtls');
    assert.equal(pick({ transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'] }), 'tcp-mtls');
  });
  test('TLS without an Istio ALPN is passed through; plaintext by what http_inspector saw', () => {
    assert.equal(pick({ transportProtocol: 'tls', applicationProtocols: ['h2', 'http/1.1'] }), 'tls-passthrough');
    assert.equal(pick({ transportProtocol: 'tls' }), 'tls-passthrough');
    assert.equal(pick({ applicationProtocols: ['http/1.1'] }), 'http-plain');
    assert.equal(pick({ applicationProtocols: ['http/1.0'] }), 'tcp-plain', 'HTTP/1.0 is not in the chain\'s list');
    assert.equal(pick({}), 'tcp-plain');
  });
});

describe('filter chain match: source IP, type and port', () => {
  const cs = chains([
    ['direct', { directSourcePrefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }] }],
    ['any-src', {}],
  ]);
  test('direct source prefix ranges, longest first', () => {
    assert.equal(selectChain(cs, input({ sourceAddress: '10.1.1.1' }))?.name, 'direct');
    assert.equal(selectChain(cs, input({ sourceAddress: '192.168.1.1' }))?.name, 'any-src');
  });
  test('source type: SAME_IP_OR_LOOPBACK against EXTERNAL', () => {
    const t = chains([['local', { sourceType: 1 }], ['external', { sourceType: 2 }]]);
    assert.equal(selectChain(t, input({ sourceAddress: '127.0.0.5' }))?.name, 'local');
    assert.equal(selectChain(t, input({ sourceAddress: '10.0.0.1', address: '10.0.0.1' }))?.name, 'local');
    assert.equal(selectChain(t, input({ sourceAddress: '10.0.0.2' }))?.name, 'external');
  });
  test('source prefix ranges and ports narrow last', () => {
    const t = chains([['net', { sourcePrefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }] }], ['net-port', { sourcePrefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }], sourcePorts: [5000] }]]);
    assert.equal(selectChain(t, input({ sourceAddress: '10.0.0.2', sourcePort: 5000 }))?.name, 'net-port');
    assert.equal(selectChain(t, input({ sourceAddress: '10.0.0.2', sourcePort: 5001 }))?.name, 'net');
    assert.equal(selectChain(t, input({ sourceAddress: '11.0.0.2', sourcePort: 5000 }))?.name, undefined);
  });
});
