/**
 * TLS configuration compiled by the proxy: SDS secrets (PEM checked, key
 * matched to its certificate, files and inline data), transport sockets of
 * filter chains and clusters (secret names, SAN matchers, TlsParameters, refusals), ALPN
 * selection, and which upstream errors count as connection failures.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TransportSocketSchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { SecretSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TlsParameters_TlsProtocol } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { createServer as createNetServer } from 'node:net';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { compileSecret } from '../../../src/proxy/tls/secret.js';
import { compileDownstreamTls, compileUpstreamTls } from '../../../src/proxy/tls/tls-plan.js';
import { selectAlpn } from '../../../src/proxy/tls/alpn.js';
import { SecretStore, sanAllowed } from '../../../src/proxy/tls/secret-store.js';
import { classifyError } from '../../../src/proxy/router/retry.js';
import { spiffe, TestPki } from '../../helpers/pki.js';

const pki = new TestPki();
const leaf = pki.leaf(spiffe('ns1', 'sa1'));
const other = pki.leaf(spiffe('ns1', 'sa2'));
after(() => pki.remove());

const inline = (s: string) => ({ specifier: { case: 'inlineString' as const, value: s } });
const file = (f: string) => ({ specifier: { case: 'filename' as const, value: f } });
const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };

describe('SDS secrets', () => {
  it('compiles a certificate with its key, inline or from files, and reads its SPIFFE id', () => {
    for (const [chain, key] of [[inline(leaf.cert), inline(leaf.key)], [file(leaf.certFile), file(leaf.keyFile)]] as const) {
      const r = compileSecret(create(SecretSchema, { name: 'default', type: { case: 'tlsCertificate', value: { certificateChain: chain, privateKey: key } } }));
      assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
      assert.equal(r.value.kind, 'certificate');
      assert.deepEqual(r.value.kind === 'certificate' && r.value.uriSans, [spiffe('ns1', 'sa1')]);
    }
  });

  it('refuses a key of another certificate, garbage PEM, a missing file and a missing type, with field paths', () => {
    const bad = (init: Parameters<typeof create<typeof SecretSchema>>[1]) => {
      const r = compileSecret(create(SecretSchema, init));
      assert.equal(r.ok, false);
      return (r as { errors: string[] }).errors.join('; ');
    };
    assert.match(bad({ name: 'default', type: { case: 'tlsCertificate', value: { certificateChain: inline(leaf.cert), privateKey: inline(other.key) } } }), /tlsCertificate\.privateKey: does not match/);
    assert.match(bad({ name: 'default', type: { case: 'tlsCertificate', value: { certificateChain: inline('nope'), privateKey: inline(leaf.key) } } }), /tlsCertificate\.certificateChain: not a PEM certificate/);
    assert.match(bad({ name: 'default', type: { case: 'tlsCertificate', value: { certificateChain: file('/nonexistent/x.pem'), privateKey: inline(leaf.key) } } }), /certificateChain\.filename: cannot read \/nonexistent\/x\.pem: ENOENT/);
    assert.match(bad({ name: 'ROOTCA', type: { case: 'validationContext', value: { trustedCa: inline('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') } } }), /validationContext\.trustedCa: not a PEM certificate/);
    assert.match(bad({ name: 'x' }), /type: unsupported or missing/);
  });
});

describe('TLS transport sockets', () => {
  const downstream = (init: Parameters<typeof create<typeof DownstreamTlsContextSchema>>[1]) =>
    create(TransportSocketSchema, { name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, init)) } });
  const upstream = (init: Parameters<typeof create<typeof UpstreamTlsContextSchema>>[1]) =>
    create(TransportSocketSchema, { name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema, init)) } });

  it("compiles Istio's shape: SDS default + ROOTCA, SAN matchers, required client certificate", () => {
    const errors: string[] = [];
    const plan = compileDownstreamTls(downstream({
      requireClientCertificate: true,
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: ads }],
        validationContextType: { case: 'combinedValidationContext', value: { defaultValidationContext: { matchSubjectAltNames: [{ matchPattern: { case: 'prefix', value: 'spiffe://cluster.local/ns/ns1/' } }] }, validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads } } },
        alpnProtocols: ['h2', 'http/1.1'],
      },
    }), 'fc', errors);
    assert.deepEqual(errors, []);
    assert.deepEqual(plan?.sdsNames, ['default', 'ROOTCA']);
    assert.equal(plan?.requireClientCert, true);
    assert.equal(sanAllowed(plan!, { subjectaltname: `URI:${spiffe('ns1', 'sa9')}` } as never), true);
    assert.equal(sanAllowed(plan!, { subjectaltname: `URI:${spiffe('ns2', 'sa9')}, DNS:x` } as never), false);
  });

  it('treats no transport socket and raw_buffer as plaintext, and refuses what it cannot serve', () => {
    const errors: string[] = [];
    assert.equal(compileDownstreamTls(undefined, 'fc', errors), undefined);
    assert.equal(compileDownstreamTls(create(TransportSocketSchema, { name: 'envoy.transport_sockets.raw_buffer' }), 'fc', errors), undefined);
    assert.deepEqual(errors, []);
    compileDownstreamTls(create(TransportSocketSchema, { name: 'envoy.transport_sockets.alts', configType: { case: 'typedConfig', value: anyPack(SecretSchema, create(SecretSchema)) } }), 'fc.transportSocket', errors);
    compileDownstreamTls(downstream({ requireClientCertificate: true, commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }] } }), 'b', errors);
    compileDownstreamTls(downstream({}), 'c', errors);
    compileUpstreamTls(upstream({ commonTlsContext: { validationContextType: { case: 'validationContext', value: { matchSubjectAltNames: [{ matchPattern: { case: 'exact', value: 'x' } }] } } } }), 'd', errors);
    const all = errors.join('\n');
    assert.match(all, /fc\.transportSocket: unsupported transport socket envoy\.transport_sockets\.alts/);
    assert.match(all, /b\.typedConfig\.requireClientCertificate: set without a trusted CA/);
    assert.match(all, /c\.typedConfig\.commonTlsContext: missing/);
    assert.match(all, /d\.typedConfig\.commonTlsContext: matchSubjectAltNames without a trusted CA/);
  });

  it('builds client options only once the secrets arrived, and rebuilds them after a rotation', () => {
    const errors: string[] = [];
    const plan = compileUpstreamTls(upstream({
      sni: 'outbound_.80_._.svc',
      commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextType: { case: 'validationContextSdsSecretConfig', value: { name: 'ROOTCA' } } },
    }), 'c', errors)!;
    assert.deepEqual(errors, []);
    const store = new SecretStore();
    const missing = store.clientOptions(plan);
    assert.ok(missing instanceof Error);
    assert.equal((missing as Error & { code: string }).code, 'TRELLIS_TLS_SECRET_MISSING');
    assert.equal(classifyError(missing), 'connect-failure');
    const secrets = (l: typeof leaf) => [
      { kind: 'certificate' as const, name: 'default', chain: l.cert, key: l.key, uriSans: [] },
      { kind: 'validation' as const, name: 'ROOTCA', ca: pki.ca.cert },
    ];
    store.update(secrets(leaf));
    const a = store.clientOptions(plan);
    assert.ok(!(a instanceof Error));
    assert.equal(a.servername, 'outbound_.80_._.svc');
    assert.equal(store.context(plan), a.secureContext, 'cached while nothing changed');
    store.update(secrets(other));
    assert.notEqual(store.context(plan), a.secureContext, 'a new context after the rotation');
  });
});

describe('TlsParameters', () => {
  const withParams = (tlsParams: Record<string, unknown>) => create(TransportSocketSchema, {
    name: 'envoy.transport_sockets.tls',
    configType: { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, {
      commonTlsContext: { tlsCertificates: [{ certificateChain: inline(leaf.cert), privateKey: inline(leaf.key) }], tlsParams },
    })) },
  });

  it("compiles Istio's inbound parameters (TLS 1.2+, its cipher suites) and refuses what OpenSSL cannot use", () => {
    const errors: string[] = [];
    const plan = compileDownstreamTls(withParams({
      tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_2,
      cipherSuites: ['ECDHE-ECDSA-AES256-GCM-SHA384', '[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]', 'AES128-GCM-SHA256'],
      ecdhCurves: ['X25519', 'P-256'],
    }), 'fc', errors);
    assert.deepEqual(errors, []);
    assert.deepEqual(plan?.params, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:AES128-GCM-SHA256', ecdhCurve: 'X25519:P-256' });
    compileDownstreamTls(withParams({ cipherSuites: ['NOT-A-CIPHER'] }), 'a', errors);
    compileDownstreamTls(withParams({ tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3, tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_2 }), 'b', errors);
    assert.match(errors.join('\n'), /a\.typedConfig\.commonTlsContext\.tlsParams: cipherSuites\/ecdhCurves not usable/);
    assert.match(errors.join('\n'), /b\.typedConfig\.commonTlsContext\.tlsParams: tlsMinimumProtocolVersion is above tlsMaximumProtocolVersion/);
  });

  it('a TLS 1.3 minimum refuses a TLS 1.2 client, and serves a TLS 1.3 one', async () => {
    const errors: string[] = [];
    const plan = compileDownstreamTls(withParams({ tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3 }), 'fc', errors)!;
    assert.deepEqual(errors, []);
    const secureContext = new SecretStore().context(plan)!;
    // As the listener does: a server-side TLSSocket on an accepted TCP socket.
    const server = createNetServer((raw) => {
      const t = new TLSSocket(raw, { isServer: true, secureContext });
      t.on('error', () => undefined);
      t.on('secure', () => t.end('ok'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const attempt = (maxVersion: 'TLSv1.2' | 'TLSv1.3') => new Promise<string>((resolve) => {
      const c = tlsConnect({ host: '127.0.0.1', port, maxVersion, rejectUnauthorized: false }, () => undefined);
      let got = '';
      c.on('data', (d: Buffer) => (got += d.toString()));
      c.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
      c.on('close', () => resolve(got));
    });
    try {
      assert.match(await attempt('TLSv1.2'), /^error /);
      assert.equal(await attempt('TLSv1.3'), 'ok');
    } finally {
      server.close();
    }
  });
});

describe('ALPN and upstream errors', () => {
  it('prefers a protocol both sides have, else an Istio marker, never a promise of metadata exchange', () => {
    assert.equal(selectAlpn(['h2', 'http/1.1'], ['http/1.1', 'h2']), 'h2');
    assert.equal(selectAlpn(['h2', 'http/1.1'], ['istio-peer-exchange', 'istio']), 'istio');
    assert.equal(selectAlpn([], ['istio-peer-exchange', 'istio-http/1.1']), 'istio-http/1.1');
    assert.equal(selectAlpn(['h2'], ['istio-peer-exchange']), undefined);
    assert.equal(selectAlpn([], ['h2', 'http/1.1']), 'http/1.1', 'a TCP chain without ALPN must not promote a browser to h2');
  });

  it('counts TLS handshake failures as connection failures (UF), like Envoy', () => {
    assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })), 'connect-failure');
    assert.equal(classifyError(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })), 'connect-failure');
    assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' })), 'connect-failure');
    assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'reset');
  });
});
