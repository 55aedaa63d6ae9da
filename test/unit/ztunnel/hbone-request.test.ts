/**
 * The pure halves of HBONE: reading a CONNECT (RFC 9113 §8.5 shape, IP:port
 * authority, Istio's forwarded/baggage/traceparent) and the SPIFFE checks
 * both ends make (trust domain on the server, expected identities on the client).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatForwarded, parseForwardedFor, parseHostPort, readConnectRequest } from '../../../src/ztunnel/hbone/connect-request.js';
import { identityMismatch, parseSpiffeId, sanSpiffeIds, trustDomainMismatch } from '../../../src/ztunnel/hbone/spiffe-peer.js';

describe('HBONE CONNECT request', () => {
  it('accepts :method CONNECT with an IPv4 or IPv6 :authority and reads the metadata', () => {
    const v = readConnectRequest({ ':method': 'CONNECT', ':authority': '[fd00::5]:8080', forwarded: 'for="10.0.0.9:41000"', baggage: 'a=b', traceparent: 't' });
    assert.deepEqual(v, { ok: true, request: { destination: { host: 'fd00::5', port: 8080 }, forwardedFor: { host: '10.0.0.9', port: 41000 }, baggage: 'a=b', traceparent: 't' } });
    assert.deepEqual(readConnectRequest({ ':method': 'CONNECT', ':authority': '10.1.2.3:80' }), { ok: true, request: { destination: { host: '10.1.2.3', port: 80 } } });
  });

  it('refuses what is not an HBONE CONNECT, with the status HBONE answers', () => {
    const cases: Array<[Record<string, string>, number]> = [
      [{ ':method': 'GET', ':authority': '10.0.0.1:80', ':path': '/' }, 400],
      [{ ':method': 'CONNECT', ':authority': '10.0.0.1:80', ':path': '/' }, 400],
      [{ ':method': 'CONNECT', ':authority': '10.0.0.1:80', ':scheme': 'https' }, 400],
      [{ ':method': 'CONNECT', ':authority': '10.0.0.1:80', ':protocol': 'websocket' }, 400],
      [{ ':method': 'CONNECT' }, 400],
      [{ ':method': 'CONNECT', ':authority': 'reviews:9080' }, 400],
      [{ ':method': 'CONNECT', ':authority': '10.0.0.1' }, 400],
      [{ ':method': 'CONNECT', ':authority': '10.0.0.1:0' }, 400],
      [{ ':method': 'CONNECT', ':authority': '10.0.0.1:65536' }, 400],
      [{ ':method': 'CONNECT', ':authority': '300.0.0.1:80' }, 400],
      [{ ':method': 'CONNECT', ':authority': 'fd00::1:80' }, 400],
    ];
    for (const [h, status] of cases) {
      const v = readConnectRequest(h);
      assert.equal(v.ok ? 200 : v.status, status, JSON.stringify(h));
    }
  });

  it('reads forwarded for= quoted or bare, first element only, and ignores what is not IP:port', () => {
    assert.deepEqual(parseForwardedFor('proto=https;For="10.0.0.1:5", for="10.0.0.2:6"'), { host: '10.0.0.1', port: 5 });
    assert.deepEqual(parseForwardedFor('for="[fd00::2]:7"'), { host: 'fd00::2', port: 7 });
    assert.equal(parseForwardedFor('for=_hidden'), undefined);
    assert.equal(parseForwardedFor('for="10.0.0.1"'), undefined);
    assert.equal(parseForwardedFor(undefined), undefined);
    assert.equal(formatForwarded({ host: 'fd00::2', port: 7 }), 'for="[fd00::2]:7"');
    assert.equal(parseHostPort('1.2.3.4:99999'), undefined);
  });
});

describe('HBONE SPIFFE checks', () => {
  const ids = sanSpiffeIds('DNS:x.example, URI:spiffe://cluster.local/ns/a/sa/b, URI:https://not.spiffe/');
  it('reads only Istio SPIFFE ids from the SANs', () => {
    assert.deepEqual(ids, [{ trustDomain: 'cluster.local', namespace: 'a', serviceAccount: 'b', uri: 'spiffe://cluster.local/ns/a/sa/b' }]);
    assert.equal(parseSpiffeId('spiffe://cluster.local/ns/a/sa/b/extra'), undefined);
  });
  it('the server wants its trust domain, the client one of the expected ids', () => {
    assert.equal(trustDomainMismatch(ids, 'cluster.local'), undefined);
    assert.match(trustDomainMismatch(ids, 'other.domain')!, /not in trust domain other.domain/);
    assert.match(trustDomainMismatch([], 'cluster.local')!, /no SPIFFE URI SAN/);
    assert.equal(identityMismatch(ids, ['spiffe://cluster.local/ns/x/sa/y', 'spiffe://cluster.local/ns/a/sa/b']), undefined);
    assert.match(identityMismatch(ids, ['spiffe://cluster.local/ns/a/sa/c'])!, /spiffe:\/\/cluster.local\/ns\/a\/sa\/b is not one of/);
    assert.match(identityMismatch(ids, [])!, /\(none\)/);
  });
});
