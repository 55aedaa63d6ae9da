/**
 * istioctl analyze's gateway secret check (IST0101): a credentialName must
 * name a Secret in the gateway pods' namespace — the one the control plane
 * serves it from — or the server has no certificate and nothing says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeFiles, lineOfText } from './helpers.js';

const gateway = (credential: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: ${credential}}
`;
const gatewayPod = `---
apiVersion: v1
kind: Pod
metadata: {name: ingress-1, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy, image: auto}]}
`;
const secret = (ns: string) => `---
apiVersion: v1
kind: Secret
metadata: {name: shop-cert, namespace: ${ns}}
type: kubernetes.io/tls
data: {tls.crt: Q0VSVA==, tls.key: S0VZ}
`;

const ist0101 = (text: string) => analyzeFiles({ 'gw.yaml': text }).filter((p) => p.code === 'IST0101');

test('a credentialName with no Secret in the gateway pod\'s namespace is IST0101 at its line, in istioctl\'s words', () => {
  for (const text of [gateway('shop-cert') + gatewayPod, gateway('shop-cert') + gatewayPod + secret('default')]) {
    const found = ist0101(text);
    assert.deepEqual(found.map((p) => p.line), [lineOfText(text, 'credentialName')]);
    assert.equal(found[0]!.reason, 'Gateway default/gw: spec.servers[0].tls.credentialName: Referenced credentialName not found: "shop-cert"');
  }
});

test('the Secret in the gateway pod\'s namespace satisfies it; a Gateway selecting no workload is not judged', () => {
  assert.deepEqual(ist0101(gateway('shop-cert') + gatewayPod + secret('istio-system')), []);
  assert.deepEqual(ist0101(gateway('shop-cert')), []);
});
