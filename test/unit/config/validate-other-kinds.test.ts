import { test } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf, reasonsOf, yaml } from './helpers.js';

const peerAuth = yaml`
  apiVersion: security.istio.io/v1
  kind: PeerAuthentication
  metadata:
    name: details
    namespace: bookinfo
  spec:
    selector:
      matchLabels: {app: details}
    mtls:
      mode: STRICT
    portLevelMtls:
      9080:
        mode: PERMISSIVE
`;

test('PeerAuthentication mtls.mode is an enum, also per port', () => {
  assert.deepEqual(reasonsOf(peerAuth), []);
  assert.deepEqual(problemsOf(peerAuth.replace('STRICT', 'ON').replace('PERMISSIVE', 'LAX')).map((p) => [p.line, p.reason]), [
    [10, 'PeerAuthentication bookinfo/details: spec.mtls.mode: must be one of UNSET, DISABLE, PERMISSIVE, STRICT (got "ON")'],
    [13, 'PeerAuthentication bookinfo/details: spec.portLevelMtls["9080"].mode: must be one of UNSET, DISABLE, PERMISSIVE, STRICT (got "LAX")'],
  ]);
});

test('PeerAuthentication portLevelMtls keys are ports and need a selector', () => {
  assert.deepEqual(reasonsOf(peerAuth.replace('9080:', 'http:')), ['PeerAuthentication bookinfo/details: spec.portLevelMtls.http: key "http" must be a port number 1..65535']);
  assert.deepEqual(reasonsOf(peerAuth.replace('  selector:\n    matchLabels: {app: details}\n', '')), [
    'PeerAuthentication bookinfo/details: spec.portLevelMtls: mesh/namespace peer authentication cannot have port level mTLS (portLevelMtls requires a workload selector)',
  ]);
  // A mesh-wide policy has no spec beyond mtls.
  assert.deepEqual(reasonsOf('apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n'), []);
});

const authz = yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata:
    name: httpbin
    namespace: foo
  spec:
    selector:
      matchLabels: {app: httpbin}
    action: ALLOW
    rules:
    - from:
      - source:
          principals: ["cluster.local/ns/default/sa/sleep"]
      to:
      - operation:
          methods: ["GET"]
          paths: ["/info*"]
      when:
      - key: request.auth.claims[iss]
        values: ["https://accounts.google.com"]
`;

test('AuthorizationPolicy: action enum, rule fields, CUSTOM needs a provider', () => {
  assert.deepEqual(reasonsOf(authz), []);
  assert.deepEqual(reasonsOf(authz.replace('action: ALLOW', 'action: PERMIT')), [
    'AuthorizationPolicy foo/httpbin: spec.action: must be one of ALLOW, DENY, AUDIT, CUSTOM (got "PERMIT")',
  ]);
  assert.deepEqual(problemsOf(authz.replace('methods:', 'method:')).map((p) => [p.line, p.reason]), [
    [16, 'AuthorizationPolicy foo/httpbin: spec.rules[0].to[0].operation.method: unknown field (did you mean "methods"?)'],
  ]);
  assert.ok(reasonsOf(authz.replace('action: ALLOW', 'action: CUSTOM')).includes('AuthorizationPolicy foo/httpbin: spec.provider: action CUSTOM requires a provider'));
  // CUSTOM cannot see identities: Istio refuses principals and request.auth conditions with it.
  assert.deepEqual(reasonsOf(authz.replace('action: ALLOW', 'action: CUSTOM\n  provider: {name: ext-authz}')), [
    'AuthorizationPolicy foo/httpbin: spec.rules[0].from[0].source.principals: From.Principals is currently not supported with CUSTOM action',
    'AuthorizationPolicy foo/httpbin: spec.rules[0].when[0].key: request.auth.claims[iss] is currently not supported with CUSTOM action',
  ]);
  assert.deepEqual(reasonsOf('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ext, namespace: foo}\nspec: {action: CUSTOM, provider: {name: ext-authz}, rules: [{to: [{operation: {paths: [/admin]}}]}]}\n'), []);
});

const serviceEntry = yaml`
  apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata:
    name: external-svc-https
  spec:
    hosts:
    - api.dropboxapi.com
    location: MESH_EXTERNAL
    ports:
    - number: 443
      name: https
      protocol: TLS
    resolution: DNS
    endpoints:
    - address: 10.1.2.3
      ports: {https: 8443}
`;

test('ServiceEntry: hosts and port names required, enums, port ranges', () => {
  assert.deepEqual(reasonsOf(serviceEntry), []);
  assert.deepEqual(reasonsOf(serviceEntry.replace('  hosts:\n  - api.dropboxapi.com\n', '').replace('    name: https\n', '').replace('DNS', 'DYNAMIC').replace('8443', '0')), [
    'ServiceEntry default/external-svc-https: spec.hosts: required field is missing',
    'ServiceEntry default/external-svc-https: spec.ports[0].name: required field is missing',
    'ServiceEntry default/external-svc-https: spec.resolution: must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN (got "DYNAMIC")',
    'ServiceEntry default/external-svc-https: spec.endpoints[0].ports.https: must be an integer 1..65535 (got 0)',
  ]);
});

test('WorkloadEntry and Sidecar', () => {
  const we = 'apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: vm1}\nspec: {address: 10.0.0.5, labels: {app: vm}, serviceAccount: vm}\n';
  assert.deepEqual(reasonsOf(we), []);
  assert.deepEqual(reasonsOf(we.replace('address', 'adress')), ['WorkloadEntry default/vm1: spec.adress: unknown field (did you mean "address"?)']);
  const sidecar = yaml`
    apiVersion: networking.istio.io/v1
    kind: Sidecar
    metadata: {name: default, namespace: prod}
    spec:
      egress:
      - hosts: ["./*", "istio-system/*"]
      outboundTrafficPolicy: {mode: REGISTRY_ONLY}
  `;
  assert.deepEqual(reasonsOf(sidecar), []);
  assert.deepEqual(reasonsOf(sidecar.replace('REGISTRY_ONLY', 'DENY')), [
    'Sidecar prod/default: spec.outboundTrafficPolicy.mode: must be one of REGISTRY_ONLY, ALLOW_ANY (got "DENY")',
  ]);
  assert.deepEqual(reasonsOf(sidecar.replace('- hosts: ["./*", "istio-system/*"]', '- bind: 127.0.0.1')), ['Sidecar prod/default: spec.egress[0].hosts: required field is missing']);
});

test('Kubernetes kinds: Service ports, Pod containers, EndpointSlice, ServiceAccount', () => {
  const svc = yaml`
    apiVersion: v1
    kind: Service
    metadata: {name: reviews, labels: {app: reviews}}
    spec:
      selector: {app: reviews}
      ports:
      - name: http
        port: 9080
        targetPort: 9080
  `;
  assert.deepEqual(reasonsOf(svc), []);
  assert.deepEqual(reasonsOf(svc.replace('port: 9080', 'port: 65536').replace('name: http', 'name: HTTP')), [
    'Service default/reviews: spec.ports[0].name: "HTTP" is not a valid DNS-1123 label (lowercase letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters)',
    'Service default/reviews: spec.ports[0].port: must be an integer 1..65535 (got 65536)',
  ]);
  const pod = yaml`
    apiVersion: v1
    kind: Pod
    metadata: {name: reviews-v1-abc, labels: {app: reviews, version: v1}}
    spec:
      serviceAccountName: bookinfo-reviews
      containers:
      - name: reviews
        image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.2
        imagePullPolicy: IfNotPresent
        env: [{name: LOG_DIR, value: /tmp/logs}]
        ports: [{containerPort: 9080}]
    status:
      podIP: 10.244.0.12
  `;
  assert.deepEqual(reasonsOf(pod), []);
  assert.deepEqual(reasonsOf(pod.replace('containerPort', 'containerport')), [
    'Pod default/reviews-v1-abc: spec.containers[0].ports[0].containerport: unknown field (did you mean "containerPort"?)',
    'Pod default/reviews-v1-abc: spec.containers[0].ports[0].containerPort: required field is missing',
  ]);
  const eps = 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: reviews-abc}\naddressType: IPv4\nendpoints:\n- addresses: [10.244.0.12]\n  conditions: {ready: true}\nports:\n- {name: http, port: 9080, protocol: TCP}\n';
  assert.deepEqual(reasonsOf(eps), []);
  assert.deepEqual(reasonsOf(eps.replace('addressType: IPv4\n', '')), ['EndpointSlice default/reviews-abc: addressType: required field is missing']);
  assert.deepEqual(reasonsOf('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\nautomountServiceAccountToken: false\n'), []);
  assert.deepEqual(reasonsOf('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\nspec: {}\n'), ['ServiceAccount default/sa: spec: unknown field']);
});
