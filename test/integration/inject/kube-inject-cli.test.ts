/**
 * `trellis kube-inject` and `trellis check-inject`, the real binary:
 * kube-inject agrees with the webhook on the same pod (and on a
 * Deployment's template against the webhook's answer for its pod), reads
 * multi-document files and standard input, passes other kinds through
 * byte for byte, and refuses what Istio refuses; check-inject explains
 * opted-in and opted-out pods with its exit code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { trellisBin } from '../../helpers/trellis-process.js';
import { applyAnswer, WebhookClient, type Pod } from './webhook-client.js';
import { startWebhookMesh, type WebhookMesh } from './webhook-mesh.js';
import { assertSidecar, view, webPod } from './pods.js';

function trellis(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [trellisBin, ...args], { encoding: 'utf8', input, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>).filter((d) => d !== null);

describe('trellis kube-inject and check-inject', () => {
  let mesh: WebhookMesh;
  let client: WebhookClient;
  let dir: string;

  before(async () => {
    mesh = await startWebhookMesh();
    client = new WebhookClient(mesh.webhook, mesh.rootPem);
    dir = await mkdtemp(join(tmpdir(), 'trellis-kube-inject-'));
  });

  after(async () => {
    await client?.close();
    await mesh?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('kube-inject of a pod equals the pod the webhook\'s patch makes', async () => {
    const pod = webPod('web-1');
    (pod.metadata as Record<string, unknown>).namespace = 'mesh-on';
    const file = join(dir, 'pod.yaml');
    await writeFile(file, stringify(pod));
    const r = trellis(['kube-inject', '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    const [offline] = docs(r.stdout);
    const online = applyAnswer(pod, await client.review(pod, 'mesh-on'));
    assert.deepEqual(offline, online);
  });

  test('kube-inject of a Deployment: its template injected as the webhook injects the pod the ReplicaSet creates', async () => {
    const template = webPod('ignored');
    const deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'mesh-on' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: template.spec } },
    };
    const r = trellis(['kube-inject', '-f', '-'], stringify(deployment));
    assert.equal(r.status, 0, r.stderr);
    const injected = docs(r.stdout)[0] as { spec: { template: Pod } };
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { generateName: 'web-7d4b9c-', namespace: 'mesh-on', labels: { app: 'web', 'pod-template-hash': '7d4b9c' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c', controller: true, uid: 'u' }] },
      spec: structuredClone(template.spec),
    };
    const online = view(applyAnswer(pod, await client.review(pod, 'mesh-on')));
    const offline = view(injected.spec.template);
    // The ReplicaSet's pod-template-hash label exists only on the pod: the labels the proxy reports differ by it alone.
    const labelsEnv = (p: typeof online) => {
      const proxy = p.spec.initContainers!.find((c) => c.name === 'trellis-proxy')!;
      const i = proxy.env!.findIndex((e) => e.name === 'ISTIO_META_LABELS');
      return JSON.parse(proxy.env!.splice(i, 1)[0]!.value!) as Record<string, string>;
    };
    const { 'pod-template-hash': hash, ...rest } = labelsEnv(online);
    assert.equal(hash, '7d4b9c');
    assert.deepEqual(labelsEnv(offline), rest);
    assert.deepEqual(offline.spec, online.spec, 'the same containers, env (workload name, owner), volumes');
    assert.deepEqual(offline.metadata.annotations, online.metadata.annotations);
    const { 'pod-template-hash': _h, ...onlineLabels } = online.metadata.labels ?? {};
    assert.deepEqual(offline.metadata.labels, onlineLabels);
    assertSidecar(offline, { podName: '' });
  });

  test('multi-document input: every workload kind injected, other kinds passed through as written, opted-out pods named on stderr', async () => {
    const template = (name: string, extra: Record<string, unknown> = {}) => ({ metadata: { labels: { app: name }, ...extra }, spec: { containers: [{ name, image: `${name}:1` }] } });
    const service = '# the shop\'s Service, with a comment kept\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop   # trailing comment\nspec:\n  ports: [{port: 80}]\n';
    const text = [
      service,
      stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: template('d') } }),
      stringify({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { template: template('s') } }),
      stringify({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { template: template('ds') } }),
      stringify({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs' }, spec: { template: template('rs') } }),
      stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: template('j') } }),
      stringify({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: template('cj') } } } }),
      stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'p', image: 'p:1' }] } }),
      stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'out' }, spec: { template: template('out', { annotations: { 'sidecar.istio.io/inject': 'false' } }) } }),
      stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } }),
    ].join('---\n');
    const file = join(dir, 'all.yaml');
    await writeFile(file, text);
    const r = trellis(['kube-inject', '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.startsWith(service), 'a document of another kind is passed through as written, comments included');
    const out = docs(r.stdout);
    assert.deepEqual(out.map((d) => d.kind), ['Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod', 'Deployment', 'ConfigMap']);
    const templateOf = (d: Record<string, unknown>): Pod => {
      const spec = d.spec as { template?: Pod; jobTemplate?: { spec: { template: Pod } } };
      return d.kind === 'Pod' ? (d as Pod) : d.kind === 'CronJob' ? spec.jobTemplate!.spec.template : spec.template!;
    };
    for (const d of out.slice(1, 8)) assertSidecar(view(templateOf(d)), { podName: '' });
    assert.equal(view(templateOf(out[8]!)).spec.initContainers, undefined, 'the opted-out Deployment is left alone');
    assert.match(r.stderr, /Deployment "out".*sidecar\.istio\.io\/inject: "false"/);
    assert.deepEqual(out[9], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
  });

  test('kube-inject refuses what Istio refuses, and input that is not YAML; -o writes a file', async () => {
    const bad = trellis(['kube-inject', '-f', '/work/shared/conformance/istio-inject/traffic-annotations-bad-includeipranges.yaml']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /includeOutboundIPRanges/);
    const junk = trellis(['kube-inject', '-f', '-'], 'a: [1, 2\n');
    assert.equal(junk.status, 1);
    assert.match(junk.stderr, /not YAML/);
    const outFile = join(dir, 'out.yaml');
    const ok = trellis(['kube-inject', '-f', '/work/shared/conformance/istio-inject/hello.yaml', '-o', outFile]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, '');
    const missing = trellis(['kube-inject']);
    assert.equal(missing.status, 2);
  });

  test('check-inject: opted in by the namespace label (exit 0), opted out by the pod (exit 1), unlabelled (exit 1), hostNetwork (exit 1)', async () => {
    const file = join(dir, 'check.yaml');
    await writeFile(file, stringify({ ...webPod('web-1'), metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } } }));
    const on = trellis(['check-inject', '-f', file, '--namespace-labels', 'istio-injection=enabled']);
    assert.equal(on.status, 0, on.stderr);
    assert.match(on.stdout, /^WEBHOOK\s+REVISION\s+INJECTED\s+REASON$/m);
    assert.match(on.stdout, /^trellis-sidecar-injector\s+default\s+✔\s+The namespace label istio-injection=enabled selects the pod$/m);
    assert.match(on.stdout, /^\* policy\s+inject\s/m);
    assert.match(on.stdout, /=> would be injected/);

    await writeFile(file, stringify({ ...webPod('web-1'), metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web', 'sidecar.istio.io/inject': 'false' } } }));
    const out = trellis(['check-inject', '-f', file, '--namespace-labels', 'istio-injection=enabled']);
    assert.equal(out.status, 1);
    assert.match(out.stdout, /✘/);
    assert.match(out.stdout, /^\* webhook-selector\s+skip\s+the pod label sidecar\.istio\.io\/inject=false excludes it/m);
    assert.match(out.stdout, /^ {2}pod-inject\s+\(skip\)/m, 'a later rule that would also skip, shown as not reached');

    const plain = trellis(['check-inject', '-f', file.replace('check', 'pod'), '-n', 'shop'], undefined);
    assert.equal(plain.status, 1, 'pod.yaml from the first test, no namespace labels');
    assert.match(plain.stdout, /^\* webhook-selector\s+skip\s+no namespace label istio-injection=enabled/m);

    const host = trellis(['check-inject', '-f', '-', '--namespace-labels', 'istio-injection=enabled'], stringify(webPod('h', { spec: { hostNetwork: true } })));
    assert.equal(host.status, 1);
    assert.match(host.stdout, /^\* host-network\s+skip\s+hostNetwork: true/m);
    assert.equal(trellis(['check-inject', '-f', file, '--namespace-labels', 'novalue']).status, 2);
  });
});
