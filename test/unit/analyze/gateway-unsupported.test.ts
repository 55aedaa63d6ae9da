/**
 * Gateway fields Trellis accepts and does not implement are reported with
 * their line (issue 13: nothing accepted silently), and the claim is
 * checked: a server the warning says is not served adds nothing to the
 * router's xDS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { yaml } from '../config/helpers.js';
import { analyzeFiles, lineOfText } from './helpers.js';
import { modelOf } from '../translate/helpers.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';

const served = `
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
    defaultEndpoint: 127.0.0.1:8080`;
const secretServer = `
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialNames: [shop-rsa, shop-ec]}`;
const credentialServer = `
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shop-cert}`;
const gateway = (servers: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:${servers}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{route: [{destination: {host: shop}}]}]
`;

test('two credentialNames, ISTIO_MUTUAL and defaultEndpoint are CONFIG_UNSUPPORTED at their lines; credentialName and PASSTHROUGH certificates are not', () => {
  const text = gateway(served + secretServer + credentialServer.replace('443, name: https', '444, name: https-one') + yaml`

    - port: {number: 15443, name: mtls, protocol: TLS}
      hosts: [mesh.example.com]
      tls: {mode: ISTIO_MUTUAL}
    - port: {number: 8443, name: pass, protocol: TLS}
      hosts: [pass.example.com]
      tls: {mode: PASSTHROUGH, credentialName: ignored}`.replace(/^/gm, '  '));
  const found = analyzeFiles({ 'gw.yaml': text }).filter((p) => p.code === 'CONFIG_UNSUPPORTED');
  const line = (needle: string) => lineOfText(text, needle);
  assert.deepEqual(found.map((p) => p.line).sort((a, b) => a - b), [line('defaultEndpoint'), line('shop-rsa'), line('ISTIO_MUTUAL')], found.map((p) => p.reason).join('\n'));
  assert.match(found.find((p) => p.line === line('shop-rsa'))!.reason, /^Gateway default\/gw: spec\.servers\[1\]\.tls\.credentialNames: .*not implemented for gateways: this server is not served/);
});

/** Every resource an ingress gateway router gets, as bytes by type and name. */
function xds(text: string): Map<string, string> {
  const gen = createGenerator(modelOf(text), routeBuilders);
  const node = { ...parseNodeId('router~10.0.0.50~ingress-abc.istio-system~istio-system.svc.cluster.local'), labels: { istio: 'ingressgateway' } };
  const out = new Map<string, string>();
  for (const t of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.RouteConfiguration]) {
    for (const [name, r] of gen.generate(node, t, undefined)) out.set(`${t} ${name}`, Buffer.from(toBinary(AnySchema, r.any)).toString('base64'));
  }
  return out;
}

test('what the warnings call "not served" adds nothing to the router\'s xDS; a served HTTPS server does (the control)', () => {
  assert.deepEqual(xds(gateway(served + secretServer)), xds(gateway(served)));
  assert.notDeepEqual(xds(gateway(served + credentialServer)), xds(gateway(served)), 'credentialName is served');
  const files = credentialServer.replace('credentialName: shop-cert', 'serverCertificate: /c.pem, privateKey: /k.pem');
  assert.notDeepEqual(xds(gateway(served + files)), xds(gateway(served)));
});
