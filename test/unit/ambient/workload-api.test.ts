/**
 * The workload API translation against istiod's shapes: which pods and
 * services are ambient, the Workload and Service messages (names, uids,
 * addresses as bytes, ports), and AuthorizationPolicy → Authorization
 * (istiod's rule / clause / match layout; L7 left out, never looser).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { AddressSchema, TunnelProtocol, WorkloadStatus, type Address } from '../../../src/gen/workloadapi/workload_pb.js';
import { Action, AuthorizationSchema, Scope, type Authorization } from '../../../src/gen/workloadapi/security/authorization_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { analyzeConfig } from '../../../src/controlplane/analyze/analyze.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import { bookinfo, modelOf, stateOf, testRoutes } from '../translate/helpers.js';

const mesh = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.5.1
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http-web}, {name: tcp-raw, port: 9000, targetPort: 9001}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web, version: v2}}
spec: {serviceAccountName: web-sa, nodeName: node-a, containers: [{name: app, ports: [{name: http-web, containerPort: 8080}]}]}
status: {podIP: 10.1.0.5, phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: shop, labels: {app: web}}
spec: {containers: [{name: app}]}
status: {podIPs: [{ip: 10.1.0.6}, {ip: "fd00::6"}], phase: Running, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: opted-out, namespace: shop, labels: {app: web, istio.io/dataplane-mode: none}}
status: {podIP: 10.1.0.7, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: with-sidecar, namespace: shop, labels: {app: web}, annotations: {sidecar.istio.io/status: "{}"}}
status: {podIP: 10.1.0.8, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: done, namespace: shop}
status: {podIP: 10.1.0.9, phase: Succeeded}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: plain, labels: {app: solo, istio.io/dataplane-mode: ambient}}
status: {podIP: 10.2.0.1, phase: Running}
---
apiVersion: v1
kind: Service
metadata: {name: solo, namespace: plain}
spec: {clusterIP: 10.96.6.1, selector: {app: solo}, ports: [{name: grpc, port: 7070}]}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: plain}
spec: {clusterIP: 10.96.6.2, selector: {app: other}, ports: [{port: 80}]}
`;

const ztunnel = parseNodeId('ztunnel~10.0.0.100~ztunnel-abc.istio-system~istio-system.svc.cluster.local');

function addresses(yaml: string): Map<string, Address> {
  const set = createGenerator(modelOf(yaml), testRoutes).generate(ztunnel, TypeUrl.Address, undefined);
  return new Map([...set].map(([n, r]) => [n, r.message as Address]));
}

function authorizations(yaml: string): Map<string, Authorization> {
  const set = createGenerator(modelOf(yaml), testRoutes).generate(ztunnel, TypeUrl.Authorization, undefined);
  return new Map([...set].map(([n, r]) => [n, r.message as Authorization]));
}

const workload = (a: Address | undefined) => (a?.type.case === 'workload' ? a.type.value : assert.fail('not a workload'));
const service = (a: Address | undefined) => (a?.type.case === 'service' ? a.type.value : assert.fail('not a service'));
const json = (a: Authorization) => toJson(AuthorizationSchema, a) as Record<string, unknown>;

describe('workload API: addresses', () => {
  const got = addresses(mesh);

  test('ambient pods (namespace label, or their own) and the services of ambient namespaces or selecting an ambient pod; nothing else', () => {
    assert.deepEqual([...got.keys()].sort(), [
      'Kubernetes//Pod/plain/solo',
      'Kubernetes//Pod/shop/web-1',
      'Kubernetes//Pod/shop/web-2',
      'plain/solo.plain.svc.cluster.local',
      'shop/web.shop.svc.cluster.local',
    ]);
  });

  test('a Workload as istiod shapes a pod: uid, raw address bytes, HBONE, identity, node, services with the pod\'s own target ports', () => {
    const w = workload(got.get('Kubernetes//Pod/shop/web-1'));
    assert.equal(w.uid, 'Kubernetes//Pod/shop/web-1');
    assert.deepEqual([w.name, w.namespace, w.serviceAccount, w.node, w.clusterId], ['web-1', 'shop', 'web-sa', 'node-a', 'Kubernetes']);
    assert.deepEqual(w.addresses.map((b) => [...b]), [[10, 1, 0, 5]]);
    assert.equal(w.tunnelProtocol, TunnelProtocol.HBONE);
    assert.equal(w.trustDomain, '', 'the default trust domain is elided');
    assert.equal(w.status, WorkloadStatus.HEALTHY);
    assert.deepEqual([w.canonicalName, w.canonicalRevision, w.workloadName], ['web', 'v2', 'web-1']);
    const ports = w.services['shop/web.shop.svc.cluster.local']!.ports.map((p) => [p.servicePort, p.targetPort]);
    assert.deepEqual(ports, [[80, 8080], [9000, 9001]], 'the named target port resolved to the container port');
  });

  test('a not-ready pod is UNHEALTHY; dual-stack addresses are 4 and 16 bytes; a named target port the pod lacks leaves that port out', () => {
    const w = workload(got.get('Kubernetes//Pod/shop/web-2'));
    assert.equal(w.status, WorkloadStatus.UNHEALTHY);
    assert.deepEqual(w.addresses.map((b) => b.length), [4, 16]);
    assert.deepEqual([...w.addresses[1]!], [0xfd, 0, ...Array(13).fill(0), 6]);
    assert.equal(w.serviceAccount, 'default');
    assert.deepEqual(w.services['shop/web.shop.svc.cluster.local']!.ports.map((p) => p.servicePort), [9000]);
  });

  test('a Service: "namespace/hostname", VIP bytes, ports with the named target port as 0 and the app protocol', () => {
    const s = service(got.get('shop/web.shop.svc.cluster.local'));
    assert.deepEqual(toJson(AddressSchema, got.get('shop/web.shop.svc.cluster.local')!), {
      service: {
        name: 'web', namespace: 'shop', hostname: 'web.shop.svc.cluster.local',
        addresses: [{ address: 'CmAFAQ==' }],
        ports: [{ servicePort: 80, appProtocol: 'HTTP11' }, { servicePort: 9000, targetPort: 9001, appProtocol: 'TCP' }],
        canonical: true,
      },
    });
    assert.deepEqual([...s.addresses[0]!.address], [10, 96, 5, 1]);
  });

  test('a sidecar-only mesh has no workload API resources', () => {
    assert.equal(addresses(bookinfo).size, 0);
    assert.equal(authorizations(bookinfo).size, 0);
  });

  test('a named subscription gets those names only', () => {
    const gen = createGenerator(modelOf(mesh), testRoutes);
    const set = gen.generate(ztunnel, TypeUrl.Address, new Set(['Kubernetes//Pod/plain/solo', 'nope']));
    assert.deepEqual([...set.keys()], ['Kubernetes//Pod/plain/solo']);
  });
});

const policies = `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: l4, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/client", "spiffe-prefix*", "*suffix", "*"], namespaces: [front], ipBlocks: ["10.9.0.0/16", "10.8.0.1"], serviceAccounts: [client, "other/sa"]}}]
    to: [{operation: {ports: ["80"], notPorts: ["9000"]}}]
    when: [{key: destination.port, values: ["80"]}, {key: source.namespace, notValues: [bad]}]
  - {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: with-http, namespace: shop}
spec:
  rules:
  - to: [{operation: {methods: [GET], ports: ["80"]}}]
  - from: [{source: {namespaces: [front]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-http, namespace: shop}
spec:
  action: DENY
  rules:
  - from: [{source: {namespaces: [evil]}}]
    to: [{operation: {paths: ["/admin"]}}]
    when: [{key: "request.headers[x-env]", values: [prod]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-wide, namespace: istio-system}
spec:
  action: DENY
  rules: [{from: [{source: {notNamespaces: ["*"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: waypoint-only, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: web}]
  rules: [{to: [{operation: {methods: [GET]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: sidecars, namespace: default}
spec:
  rules: [{to: [{operation: {methods: [GET]}}]}]
`;

describe('workload API: authorization', () => {
  const got = authorizations(mesh + policies);

  test('the policies that apply to an ambient workload, named "namespace/name"; targetRef policies (waypoints) and other namespaces\' are not', () => {
    assert.deepEqual([...got.keys()].sort(), ['istio-system/mesh-wide', 'shop/deny-http', 'shop/l4', 'shop/with-http']);
    assert.equal(got.get('istio-system/mesh-wide')!.scope, Scope.GLOBAL);
    assert.equal(got.get('shop/with-http')!.scope, Scope.NAMESPACE);
    assert.equal(got.get('shop/l4')!.scope, Scope.WORKLOAD_SELECTOR);
  });

  test('L4 fields as istiod lays them out: a clause for to, one for from, one per when; wildcards as prefix/suffix/presence; ipBlocks as bytes and length', () => {
    assert.deepEqual(json(got.get('shop/l4')!), {
      name: 'l4', namespace: 'shop', scope: 'WORKLOAD_SELECTOR',
      rules: [
        {
          clauses: [
            { matches: [{ destinationPorts: [80], notDestinationPorts: [9000] }] },
            {
              matches: [{
                namespaces: [{ exact: 'front' }],
                serviceAccounts: [{ namespace: 'shop', serviceAccount: 'client' }, { namespace: 'other', serviceAccount: 'sa' }],
                principals: [{ exact: 'cluster.local/ns/shop/sa/client' }, { prefix: 'spiffe-prefix' }, { suffix: 'suffix' }, { presence: {} }],
                sourceIps: [{ address: 'CgkAAA==', length: 16 }, { address: 'CggAAQ==', length: 32 }],
              }],
            },
            { matches: [{ destinationPorts: [80] }] },
            { matches: [{ notNamespaces: [{ exact: 'bad' }] }] },
          ],
        },
        {},
      ],
    });
  });

  test('ALLOW with HTTP fields: the rule that uses them is dropped (allows less), the others stay', () => {
    const a = got.get('shop/with-http')!;
    assert.equal(a.action, Action.ALLOW);
    assert.deepEqual(json(a).rules, [{ clauses: [{ matches: [{ namespaces: [{ exact: 'front' }] }] }] }]);
  });

  test('DENY with HTTP fields: the constraints L4 cannot see are left out, so the rule denies more (never an empty match that denies nothing)', () => {
    const a = got.get('shop/deny-http')!;
    assert.equal(a.action, Action.DENY);
    assert.deepEqual(json(a).rules, [{ clauses: [{ matches: [{ namespaces: [{ exact: 'evil' }] }] }] }]);
  });

  test('a workload lists the selector-scoped policies that select it; namespace and mesh ones are found by scope', () => {
    const w = workload(addresses(mesh + policies).get('Kubernetes//Pod/shop/web-1'));
    assert.deepEqual(w.authorizationPolicies, ['shop/l4']);
  });

  test('the analysis reports each ambient policy that lost HTTP attributes, with what and in which direction; not a sidecar-only policy', () => {
    const state = stateOf(mesh + policies);
    const reasons = analyzeConfig(state.objects.values(), modelOf(mesh + policies)).filter((p) => /node proxy of ambient/.test(p.reason)).map((p) => p.reason);
    assert.equal(reasons.length, 2, reasons.join('\n'));
    assert.match(reasons.find((r) => r.includes('with-http'))!, /^AuthorizationPolicy shop\/with-http: spec\.rules: .*leaves out methods; this ALLOW policy's rules that use them are dropped, so it allows less/);
    assert.match(reasons.find((r) => r.includes('deny-http'))!, /leaves out paths, request\.headers\[x-env\]; this DENY policy's rules are enforced without them, so it denies more/);
    assert.equal(analyzeConfig(stateOf(bookinfo + policies).objects.values(), modelOf(bookinfo + policies)).filter((p) => /node proxy of ambient/.test(p.reason)).length, 0);
  });
});

const peerAuthn = (spec: string, name = 'pa', ns = 'shop') => `
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ${name}, namespace: ${ns}}
spec: ${spec}
`;

describe('workload API: PeerAuthentication', () => {
  const policiesOf = (yaml: string, pod = 'Kubernetes//Pod/shop/web-1') => workload(addresses(yaml).get(pod)).authorizationPolicies;

  test('STRICT (mesh-wide here) names istiod\'s static strict DENY: no peer identity, denied', () => {
    const yaml = mesh + peerAuthn('{mtls: {mode: STRICT}}', 'default', 'istio-system');
    assert.deepEqual(policiesOf(yaml), ['istio-system/istio_converted_static_strict']);
    const a = authorizations(yaml).get('istio-system/istio_converted_static_strict')!;
    assert.deepEqual(json(a), { name: 'istio_converted_static_strict', namespace: 'istio-system', scope: 'WORKLOAD_SELECTOR', action: 'DENY', rules: [{ clauses: [{ matches: [{ notPrincipals: [{ presence: {} }] }] }] }] });
  });

  test('PERMISSIVE, or none: nothing to enforce', () => {
    assert.deepEqual(policiesOf(mesh + peerAuthn('{mtls: {mode: PERMISSIVE}}')), []);
    assert.equal(authorizations(mesh).size, 0);
  });

  test('STRICT with a PERMISSIVE port: a converted policy in the workload policy\'s namespace, plain text allowed to that port only', () => {
    const yaml = mesh + peerAuthn('{selector: {matchLabels: {app: web}}, mtls: {mode: STRICT}, portLevelMtls: {"8080": {mode: PERMISSIVE}}}', 'web-pa');
    assert.deepEqual(policiesOf(yaml), ['shop/converted_peer_authentication_web-pa']);
    assert.deepEqual(json(authorizations(yaml).get('shop/converted_peer_authentication_web-pa')!).rules, [
      { clauses: [{ matches: [{ notPrincipals: [{ presence: {} }] }] }, { matches: [{ notDestinationPorts: [8080] }] }] },
    ]);
  });

  test('PERMISSIVE with a STRICT port: plain text denied to that port only', () => {
    const yaml = mesh + peerAuthn('{selector: {matchLabels: {app: web}}, mtls: {mode: PERMISSIVE}, portLevelMtls: {"9001": {mode: STRICT}}}', 'web-pa');
    assert.deepEqual(json(authorizations(yaml).get('shop/converted_peer_authentication_web-pa')!).rules, [
      { clauses: [{ matches: [{ notPrincipals: [{ presence: {} }], destinationPorts: [9001] }] }] },
    ]);
  });
});
