/**
 * networking.istio.io Gateway validation, with istiod's rules and messages
 * (ValidateGateway, validateServer, validateTLSOptions), each problem at the
 * line of its field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf, reasonsOf, yaml } from './helpers.js';

const gateway = yaml`
  apiVersion: networking.istio.io/v1beta1
  kind: Gateway
  metadata:
    name: bookinfo-gateway
    namespace: bookinfo
  spec:
    selector:
      istio: ingressgateway
    servers:
    - port:
        number: 80
        name: http
        protocol: HTTP
      hosts: ["*"]
      tls:
        httpsRedirect: true
    - port:
        number: 443
        name: https
        protocol: HTTPS
      hosts: ["./bookinfo.example.com", "*/shop.example.com", "other/*.example.com"]
      tls:
        mode: SIMPLE
        serverCertificate: /etc/certs/tls.crt
        privateKey: /etc/certs/tls.key
    - port:
        number: 15443
        name: tls
        protocol: TLS
      hosts: ["*.local"]
      tls:
        mode: PASSTHROUGH
`;

test('Istio Gateways are accepted in v1, v1beta1 and v1alpha3', () => {
  assert.deepEqual(reasonsOf(gateway), []);
  assert.deepEqual(reasonsOf(gateway.replace('v1beta1', 'v1alpha3')), []);
  assert.deepEqual(reasonsOf(gateway.replace('v1beta1', 'v1')), []);
});

test('server rules: hosts, port name and protocol, TLS where the protocol needs it, each at its line', () => {
  const bad = gateway
    .replace('hosts: ["*"]', 'hosts: []')
    .replace('name: https', 'name: http')
    .replace('protocol: TLS', 'protocol: QUIC')
    .replace('"other/*.example.com"', '"Other_ns/*.example.com", "a.*.com"');
  assert.deepEqual(problemsOf(bad).map((p) => [p.line, p.reason]), [
    [14, 'Gateway bookinfo/bookinfo-gateway: spec.servers[0].hosts: server config must contain at least one host'],
    [19, 'Gateway bookinfo/bookinfo-gateway: spec.servers[1].port.name: port names in servers must be unique: duplicate name http'],
    [21, 'Gateway bookinfo/bookinfo-gateway: spec.servers[1].hosts[2]: invalid namespace value "Other_ns" in gateway'],
    [21, 'Gateway bookinfo/bookinfo-gateway: spec.servers[1].hosts[3]: invalid host "a.*.com" (a DNS name, "*" or "*.domain"; a wildcard only as the leftmost label)'],
    [29, 'Gateway bookinfo/bookinfo-gateway: spec.servers[2].port.protocol: invalid protocol "QUIC", supported protocols are HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL'],
  ]);
});

test('TLS modes: SIMPLE needs certificate and key, MUTUAL a client CA, ISTIO_MUTUAL none; HTTPS needs tls; plain HTTP only httpsRedirect', () => {
  const noKey = gateway.replace('      privateKey: /etc/certs/tls.key\n', '');
  assert.deepEqual(reasonsOf(noKey), ['Gateway bookinfo/bookinfo-gateway: spec.servers[1].tls.privateKey: SIMPLE TLS requires a private key']);
  assert.deepEqual(reasonsOf(gateway.replace('mode: SIMPLE', 'mode: MUTUAL')), ['Gateway bookinfo/bookinfo-gateway: spec.servers[1].tls.caCertificates: MUTUAL TLS requires a client CA bundle']);
  assert.deepEqual(reasonsOf(gateway.replace('mode: SIMPLE', 'mode: ISTIO_MUTUAL')), [
    'Gateway bookinfo/bookinfo-gateway: spec.servers[1].tls.serverCertificate: ISTIO_MUTUAL TLS cannot have associated serverCertificate',
    'Gateway bookinfo/bookinfo-gateway: spec.servers[1].tls.privateKey: ISTIO_MUTUAL TLS cannot have associated privateKey',
  ]);
  // credentialName replaces the files (fetched remotely): nothing else is required.
  assert.deepEqual(reasonsOf(gateway.replace('serverCertificate: /etc/certs/tls.crt\n      privateKey: /etc/certs/tls.key', 'credentialName: bookinfo-cert')), []);
  assert.deepEqual(reasonsOf(gateway.replace('    tls:\n      mode: PASSTHROUGH\n', '')), ['Gateway bookinfo/bookinfo-gateway: spec.servers[2].tls: server must have TLS settings for HTTPS/TLS protocols']);
  assert.deepEqual(reasonsOf(gateway.replace('httpsRedirect: true', 'mode: SIMPLE')), [
    'Gateway bookinfo/bookinfo-gateway: spec.servers[0].tls.serverCertificate: SIMPLE TLS requires a server certificate',
    'Gateway bookinfo/bookinfo-gateway: spec.servers[0].tls.privateKey: SIMPLE TLS requires a private key',
    'Gateway bookinfo/bookinfo-gateway: spec.servers[0].tls: server cannot have TLS settings for plain text HTTP ports',
  ]);
});

test('a gateway name is a DNS label; bind is an IP; a gateway has servers; unknown fields are typos', () => {
  assert.deepEqual(reasonsOf(gateway.replace('name: bookinfo-gateway', 'name: bookinfo.gateway')), ['Gateway bookinfo/bookinfo.gateway: metadata.name: invalid gateway name: "bookinfo.gateway" (a DNS-1123 label: no dots)']);
  assert.deepEqual(reasonsOf(gateway.replace('hosts: ["*.local"]', 'hosts: ["*.local"]\n    bind: localhost')), ['Gateway bookinfo/bookinfo-gateway: spec.servers[2].bind: "localhost" is not a valid IP address']);
  assert.deepEqual(reasonsOf(gateway.replace('hosts: ["*.local"]', 'hosts: ["*.local"]\n    bind: 127.0.0.1')), []);
  assert.deepEqual(reasonsOf('apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {servers: []}\n'), ['Gateway default/g: spec.servers: gateway must have at least one server']);
  assert.deepEqual(reasonsOf(gateway.replace('httpsRedirect: true', 'httpsRedirects: true')), ['Gateway bookinfo/bookinfo-gateway: spec.servers[0].tls.httpsRedirects: unknown field (did you mean "httpsRedirect"?)']);
});
