/**
 * `trellis install` (the real binary) prints manifests that validate
 * against Kubernetes' schemas (kubernetes-models' validators, plus strict
 * field checking as kubectl asks for it), whose CRDs serve what Istio's
 * serve (@kubernetes-models/istio), and that say what the issue asks:
 * two replicas, the four ports, least-privilege RBAC, the webhook's
 * selectors and failure policy, the caBundle from the CA.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CertificateAuthority } from '../../../src/ca/authority.js';
import { watchedResources } from '../../../src/controlplane/sources/kubernetes/resources.js';
import { unknownFields } from '../../helpers/kube-strict-fields.js';
import { trellisBin } from '../../helpers/trellis-process.js';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

function run(args: string[]): Obj[] {
  const r = spawnSync(process.execPath, [trellisBin, ...args], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as Obj;
  });
}

const find = (objs: Obj[], kind: string, name?: string) => {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  assert.ok(o, `${kind} ${name ?? ''}`);
  return o as Obj & Record<string, any>;
};

/** kubernetes-models' class for an object: kubernetes-models/GROUP/VERSION/KIND (core: v1/KIND). */
async function kubernetesModel(o: Obj): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const mod = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  return mod[o.kind]!;
}

describe('trellis install', () => {
  let objs: Obj[];
  let work: string;
  before(() => {
    objs = run(['install']);
    work = mkdtempSync(join(tmpdir(), 'trellis-install-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('every manifest validates against the Kubernetes schema, with no field Kubernetes does not declare', async () => {
    assert.ok(objs.length >= 10);
    for (const o of objs) {
      const Model = await kubernetesModel(o);
      assert.doesNotThrow(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`);
      assert.deepEqual(unknownFields(o, `V1${o.kind}`), [], `${o.kind} ${o.metadata.name}`);
    }
  });

  test('the checks bite: a misspelt field and a wrong type are caught', async () => {
    const d = structuredClone(find(objs, 'Deployment'));
    d.spec.template.spec.containers[0].imagePullPolcy = 'Always';
    assert.deepEqual(unknownFields(d, 'V1Deployment'), ['spec.template.spec.containers[0].imagePullPolcy']);
    d.spec.replicas = 'two';
    const Model = await kubernetesModel(d);
    assert.throws(() => new Model(d).validate(), /replicas/);
  });

  test('the Istio CRDs: one per kind the source watches, served at Istio\'s versions, with Istio\'s schema for each object kind', async () => {
    const crds = objs.filter((o) => o.kind === 'CustomResourceDefinition') as (Obj & Record<string, any>)[];
    // The Gateway API's CRDs are the user's to install (from its release), not Trellis's.
    assert.deepEqual(crds.map((c) => c.spec.names.kind).sort(), watchedResources.filter((r) => r.crd && r.group !== 'gateway.networking.k8s.io').map((r) => r.kind).sort());
    for (const c of crds) {
      const versions = c.spec.versions as { name: string; storage: boolean; served: boolean }[];
      assert.deepEqual(versions.filter((v) => v.storage).map((v) => v.name), ['v1'], c.metadata.name);
      assert.equal(c.metadata.name, `${c.spec.names.plural}.${c.spec.group}`);
      // @kubernetes-models/istio (Istio's own schemas) has each kind at each older version we serve; it predates v1, whose schema is v1beta1's.
      for (const v of versions.filter((x) => x.name !== 'v1')) {
        const mod = (await import(`@kubernetes-models/istio/${c.spec.group}/${v.name}/${c.spec.names.kind}`)) as Record<string, unknown>;
        assert.ok(mod[c.spec.names.kind], `${c.spec.group}/${v.name} ${c.spec.names.kind} is an Istio kind`);
      }
    }
    const { VirtualService } = await import('@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService');
    assert.doesNotThrow(() => new VirtualService({ metadata: { name: 'r' }, spec: { hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 100 }] }] } }).validate());
  });

  test('the control plane: a Deployment of 2 replicas and a Service on 15010, 15012, 15014, 15017', () => {
    const d = find(objs, 'Deployment', 'istiod');
    assert.equal(d.metadata.namespace, 'istio-system');
    assert.equal(d.spec.replicas, 2);
    const c = d.spec.template.spec.containers[0];
    assert.deepEqual(c.args.slice(0, 3), ['controlplane', '--source', 'kubernetes']);
    // The injector the MutatingWebhookConfiguration calls, with a certificate for the Service it calls.
    assert.equal(c.args[c.args.indexOf('--webhook-port') + 1], '15017');
    assert.match(c.args[c.args.indexOf('--webhook-dns-names') + 1] ?? '', /^istiod\.[a-z-]+\.svc,istiod\.[a-z-]+\.svc\.cluster\.local$/);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    assert.equal(d.spec.template.metadata.annotations['sidecar.istio.io/inject'], 'false');
    const s = find(objs, 'Service', 'istiod');
    assert.deepEqual(s.spec.ports.map((p: { port: number }) => p.port), [15010, 15012, 15014, 15017]);
    assert.deepEqual(s.spec.selector, d.spec.selector.matchLabels);
  });

  test('RBAC is least privilege: reads of the watched kinds (Secrets included, as istiod), TokenReview create, its own webhook, its own Secrets and Lease', () => {
    const cr = find(objs, 'ClusterRole');
    const rules = cr.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
    for (const r of rules) {
      assert.ok(!r.verbs.includes('*') && !r.resources.includes('*') && !r.apiGroups.includes('*'), JSON.stringify(r));
      assert.ok(!r.verbs.includes('delete') && !r.verbs.includes('patch'), JSON.stringify(r));
    }
    const readable = rules.filter((r) => r.verbs.join() === 'get,list,watch').flatMap((r) => r.resources).sort();
    assert.deepEqual(readable, watchedResources.map((r) => r.plural).sort());
    // Secrets are read cluster-wide, as istiod reads them: gateways' credentialName certificates (served
    // only to router proxies of the Secret's namespace); never written outside its own namespace.
    assert.ok(readable.includes('secrets'));
    assert.ok(!rules.some((r) => r.resources.includes('secrets') && r.verbs.some((v) => v !== 'get' && v !== 'list' && v !== 'watch')), 'no cluster-wide Secret write');
    const hook = rules.find((r) => r.resources.includes('mutatingwebhookconfigurations'))!;
    assert.deepEqual(hook.resourceNames, ['trellis-sidecar-injector']);
    const role = find(objs, 'Role');
    const secretGet = (role.rules as typeof rules).find((r) => r.resources.includes('secrets') && r.verbs.includes('get'))!;
    assert.deepEqual(secretGet.resourceNames, ['cacerts', 'istio-ca-secret']);
    const binding = find(objs, 'ClusterRoleBinding');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'istiod', namespace: 'istio-system' }]);
  });

  test('the webhook: istio-injection=enabled, sidecar.istio.io/inject honoured, kube-system and its namespace excluded, Fail, None, v1', () => {
    const w = find(objs, 'MutatingWebhookConfiguration');
    const [byNs, byObject] = w.webhooks;
    for (const h of w.webhooks) {
      assert.equal(h.failurePolicy, 'Fail');
      assert.equal(h.sideEffects, 'None');
      assert.deepEqual(h.admissionReviewVersions, ['v1']);
      assert.deepEqual(h.clientConfig.service, { name: 'istiod', namespace: 'istio-system', path: '/inject', port: 15017 });
      assert.equal(h.clientConfig.caBundle, undefined, 'no CA given: the leader sets it');
      const excluded = h.namespaceSelector.matchExpressions.find((e: { key: string }) => e.key === 'kubernetes.io/metadata.name');
      assert.deepEqual(excluded, { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', 'istio-system'] });
    }
    assert.deepEqual(byNs.namespaceSelector.matchExpressions[0], { key: 'istio-injection', operator: 'In', values: ['enabled'] });
    assert.deepEqual(byNs.objectSelector.matchExpressions, [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }]);
    assert.deepEqual(byObject.objectSelector.matchExpressions, [{ key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] }]);
  });

  test('--webhook-failure-policy Ignore --namespace mesh --ca-dir: the policy, every namespaced object and the caBundle follow', () => {
    const ca = CertificateAuthority.open({ dir: join(work, 'ca') });
    const other = run(['install', '--webhook-failure-policy', 'Ignore', '--namespace', 'mesh', '--ca-dir', join(work, 'ca')]);
    const w = find(other, 'MutatingWebhookConfiguration');
    for (const h of w.webhooks) {
      assert.equal(h.failurePolicy, 'Ignore');
      assert.equal(Buffer.from(h.clientConfig.caBundle, 'base64').toString(), ca.rootsPem());
      assert.equal(h.clientConfig.service.namespace, 'mesh');
    }
    for (const o of other) if (o.metadata.namespace !== undefined) assert.equal(o.metadata.namespace, 'mesh', `${o.kind} ${o.metadata.name}`);
    assert.equal(find(other, 'Namespace').metadata.name, 'mesh');
    const bad = spawnSync(process.execPath, [trellisBin, 'install', '--webhook-failure-policy', 'Maybe'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--webhook-failure-policy must be Fail or Ignore/);
  });

  test('uninstall: the webhook first; CRDs, namespace and CA Secret only with --purge', () => {
    const plain = run(['uninstall']);
    assert.equal(plain[0]!.kind, 'MutatingWebhookConfiguration');
    assert.ok(!plain.some((o) => ['CustomResourceDefinition', 'Namespace', 'Secret'].includes(o.kind)));
    const purge = run(['uninstall', '--purge']);
    assert.equal(purge[0]!.kind, 'MutatingWebhookConfiguration');
    assert.ok(purge.some((o) => o.kind === 'Secret' && o.metadata.name === 'istio-ca-secret'));
    assert.equal(purge.filter((o) => o.kind === 'CustomResourceDefinition').length, watchedResources.filter((r) => r.crd && r.group !== 'gateway.networking.k8s.io').length);
    const installed = run(['install']).map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(purge.filter((o) => !['Secret', 'Lease'].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`).sort(), installed);
  });
});
