import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../../src/config/load-config.js';
import { isIgnoredKind } from '../../../src/config/ignored-kinds.js';
import { problemsOf, reasonsOf, yaml } from './helpers.js';

const deployment = yaml`
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: shop
  spec:
    replicas: 2
    selector:
      matchLabels: {app: web}
    template:
      metadata:
        labels: {app: web, version: v1}
      spec:
        serviceAccountName: web
        containers:
        - name: web
          image: ignored
          command: [node, web.js]
          env:
          - name: POD_IP
            valueFrom: {fieldRef: {fieldPath: status.podIP}}
          ports:
          - containerPort: 8080
`;

test('issue 13 item 1: standard Kubernetes kinds Trellis does not use load without a problem and contribute nothing', () => {
  const text = [
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n',
    'apiVersion: v1\nkind: LimitRange\nmetadata: {name: l}\nspec: {limits: []}\n',
    'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec: {anything: [goes]}\n',
    'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\n',
    'apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\n',
    'apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n',
    'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj}\n',
    'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: crb}\n',
    'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n',
    'apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n',
  ].join('---\n');
  const loaded = loadConfigText('k8s.yaml', text);
  assert.deepEqual(reasonsOf(text), []);
  assert.deepEqual(loaded.documents.filter((d) => d.object).length, 0);
});

test('a Secret is read (gateways\' credentialName): data must be base64, stringData is plain', () => {
  const ok = 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: istio-system}\ntype: kubernetes.io/tls\ndata: {tls.crt: Q0VSVA==, tls.key: S0VZ}\nstringData: {ca.crt: x}\n';
  assert.deepEqual(reasonsOf(ok), []);
  assert.equal(loadConfigText('s.yaml', ok).documents.filter((d) => d.object).length, 1);
  assert.deepEqual(reasonsOf('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {tls.crt: "not base64!"}\n'), ['Secret default/s: data["tls.crt"]: not base64']);
  assert.deepEqual(reasonsOf('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringdata: {a: b}\n').length, 1, 'a typo is reported');
});

test('a kind outside its own API group, a misspelt kind or a typo in an Istio group is still unknown; other projects\' kinds are not mesh config', () => {
  assert.equal(isIgnoredKind('apps/v1', 'Deploymnet'), false);
  assert.equal(isIgnoredKind('gateway.networking.k8s.io/v1', 'HTTPRoue'), false);
  assert.equal(isIgnoredKind('certmanager.k8s.io/v1alpha1', 'Certificate'), true);
  assert.equal(isIgnoredKind('networking.istio.oi/v1', 'VirtualService'), false);
  assert.equal(isIgnoredKind('install.istio.io/v1alpha1', 'IstioOperator'), true);
  assert.equal(isIgnoredKind('monitoring.coreos.com/v1', 'ServiceMonitor'), true);
  assert.equal(isIgnoredKind('v1', 'StatefulSet'), false);
  assert.equal(isIgnoredKind('batch/v1', 'CronJob'), true);
  assert.deepEqual(reasonsOf('apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\n'), ['unknown kind Deploymnet (apiVersion apps/v1)']);
  assert.deepEqual(reasonsOf('apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFiltr\nmetadata: {name: x}\n'), ['unknown kind EnvoyFiltr (apiVersion networking.istio.io/v1alpha3)']);
  assert.deepEqual(reasonsOf('apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\n'), []);
  assert.deepEqual(reasonsOf('apiVersion: security.istio.io/v1\nkind: Certificate\nmetadata: {name: x}\n'), ['unknown kind Certificate (apiVersion security.istio.io/v1)']);
});

test('a Deployment is read as an object (what trellis up runs), its pod template checked like a Pod', () => {
  const loaded = loadConfigText('web.yaml', deployment);
  assert.deepEqual(reasonsOf(deployment), []);
  const obj = loaded.documents[0]?.object;
  assert.equal(obj?.kind, 'Deployment');
  assert.equal(obj?.metadata.namespace, 'shop');
  const typo = problemsOf(deployment.replace('containerPort: 8080', 'containerPrt: 8080'));
  assert.deepEqual(typo.map((p) => [p.line, p.reason]), [
    [23, 'Deployment shop/web: spec.template.spec.containers[0].ports[0].containerPrt: unknown field (did you mean "containerPort"?)'],
    [23, 'Deployment shop/web: spec.template.spec.containers[0].ports[0].containerPort: required field is missing'],
  ]);
});

test('a Deployment whose selector does not select its template is refused, as the API server does', () => {
  const bad = deployment.replace('matchLabels: {app: web}', 'matchLabels: {app: shop}');
  assert.deepEqual(problemsOf(bad).map((p) => [p.line, p.reason]), [
    [8, 'Deployment shop/web: spec.selector: selector does not match template labels (app=shop missing from spec.template.metadata.labels)'],
  ]);
  assert.match(reasonsOf(deployment.replace('apps/v1', 'extensions/v1beta1'))[0] ?? '', /extensions\/v1beta1 is not accepted for Deployment \(expected apps\/v1\)/);
});
