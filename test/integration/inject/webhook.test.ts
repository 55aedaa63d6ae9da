/**
 * The injection webhook of the real `trellis controlplane`, as the API
 * server uses it: HTTPS verified against the mesh root (undici, and openssl
 * s_client -verify_return_error), AdmissionReview v1 for a table of pods and
 * namespaces, the answer's JSON patch applied with fast-json-patch and the
 * result checked structurally; malformed reviews answered with a clear
 * error while the server keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { connect } from 'node:tls';
import { Scratch, openssl } from '../../helpers/openssl.js';
import { trellisBin } from '../../helpers/trellis-process.js';
import { applyAnswer, WebhookClient, type Pod } from './webhook-client.js';
import { startWebhookMesh, type WebhookMesh } from './webhook-mesh.js';
import { assertCapture, assertProbesRewritten, assertSidecar, container, view, webPod } from './pods.js';

const DEFAULT_EXCLUDED_INBOUND = [15090, 15021, 15020];

describe('injection webhook: HTTPS with a certificate from the mesh CA', () => {
  let mesh: WebhookMesh;
  let client: WebhookClient;
  const scratch = new Scratch();

  before(async () => {
    mesh = await startWebhookMesh();
    client = new WebhookClient(mesh.webhook, mesh.rootPem);
  });

  after(async () => {
    await client?.close();
    await mesh?.stop();
    scratch.remove();
  });

  test('openssl s_client verifies the chain to the mesh root and the Service name; a foreign root is refused', () => {
    const [host, port] = [mesh.webhook.slice(0, mesh.webhook.lastIndexOf(':')), mesh.webhook.slice(mesh.webhook.lastIndexOf(':') + 1)];
    const args = ['s_client', '-connect', `${host}:${port}`, '-servername', 'istiod.istio-system.svc', '-verify_return_error', '-verify_hostname', 'istiod.istio-system.svc'];
    const ok = openssl([...args, '-CAfile', scratch.file('root.pem', mesh.rootPem)], { input: '' });
    assert.ok(ok.ok, ok.out);
    assert.match(ok.out, /Verify return code: 0 \(ok\)/);
    const wrongName = openssl([...args.slice(0, -1), 'istiod.other.svc', '-CAfile', scratch.file('root2.pem', mesh.rootPem)], { input: '' });
    assert.ok(!wrongName.ok, 'a name the certificate does not hold is refused');
    const foreign = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', scratch.file('f.key'), '-out', scratch.file('f.pem'), '-subj', '/O=foreign', '-days', '1'], { timeout: 20_000 });
    assert.equal(foreign.status, 0);
    const refused = openssl([...args, '-CAfile', scratch.file('f.pem')], { input: '' });
    assert.ok(!refused.ok, 'a chain to another root fails verification');
  });

  test('node:tls verifies the certificate against the mesh root for istiod.istio-system.svc and .cluster.local', async () => {
    const [host, port] = [mesh.webhook.slice(0, mesh.webhook.lastIndexOf(':')), Number(mesh.webhook.slice(mesh.webhook.lastIndexOf(':') + 1))];
    for (const servername of ['istiod.istio-system.svc', 'istiod.istio-system.svc.cluster.local']) {
      const cert = await new Promise<{ subjectaltname?: string }>((resolve, reject) => {
        const s = connect({ host, port, servername, ca: mesh.rootPem, rejectUnauthorized: true }, () => {
          resolve(s.getPeerCertificate());
          s.end();
        });
        s.on('error', reject);
      });
      assert.match(cert.subjectaltname ?? '', new RegExp(`DNS:${servername.replace(/\./g, '\\.')}(,|$)`));
    }
  });

  test('a pod in a namespace labelled istio-injection=enabled: the patch yields capture, a native sidecar ready for identity and config, rewritten probes', async () => {
    const pod = webPod('web-1');
    const r = await client.review(pod, 'mesh-on');
    assert.equal(r.uid, r.uidSent, 'the uid is echoed');
    assert.equal(r.allowed, true);
    const out = view(applyAnswer(pod, r));
    assertCapture(out, { outboundInclude: '*', inboundExclude: DEFAULT_EXCLUDED_INBOUND });
    assertSidecar(out, { podName: 'web-1' });
    assert.deepEqual(out.spec.containers.map((c) => c.name), ['web'], 'the app containers stay, in order');
    assertProbesRewritten(out, 'web', {
      '/app-health/web/readyz': { httpGet: { path: '/ready', port: 8080 } },
      '/app-health/web/livez': { tcpSocket: { port: 9090 } },
    });
    const proxy = container(out, 'trellis-proxy');
    const ports = JSON.parse(proxy.env!.find((e) => e.name === 'ISTIO_META_POD_PORTS')!.value!) as unknown;
    assert.deepEqual(ports, [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }]);
    assert.equal(proxy.env!.find((e) => e.name === 'ISTIO_META_APP_CONTAINERS')?.value, 'web');
    // The init container runs `trellis iptables` flags the real binary accepts.
    const dry = spawnSync(process.execPath, [trellisBin, ...container(out, 'trellis-init').args!, '--dry-run'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /--to-ports 15001/);
    assert.match(dry.stdout, /--to-ports 15006/);
  });

  const skipped: [string, string, Pod][] = [
    ['a namespace labelled istio-injection=disabled', 'mesh-off', webPod('w', { labels: { 'sidecar.istio.io/inject': 'true' } })],
    ['an unlabelled namespace and a pod that says nothing', 'plain', webPod('w')],
    ['the pod label sidecar.istio.io/inject=false in an enabled namespace', 'mesh-on', webPod('w', { labels: { 'sidecar.istio.io/inject': 'false' } })],
    ['the pod annotation sidecar.istio.io/inject: "false"', 'mesh-on', webPod('w', { annotations: { 'sidecar.istio.io/inject': 'false' } })],
    ['a hostNetwork pod', 'mesh-on', webPod('w', { spec: { hostNetwork: true } })],
    ['kube-system, even labelled', 'kube-system', webPod('w')],
    ['the control plane\'s namespace, even labelled', 'istio-system', webPod('w')],
    ['a namespace of another revision (istio.io/rev=canary)', 'rev-canary', webPod('w')],
    ['a pod already injected (sidecar.istio.io/status)', 'mesh-on', webPod('w', { annotations: { 'sidecar.istio.io/status': '{"containers":["trellis-proxy"]}' } })],
  ];
  for (const [what, ns, pod] of skipped) {
    test(`not injected: ${what} — allowed, no patch`, async () => {
      const r = await client.review(pod, ns);
      assert.equal(r.allowed, true);
      assert.equal(r.patch, undefined);
      assert.equal(r.patchType, undefined);
    });
  }

  test('opted in without a namespace label: the pod label sidecar.istio.io/inject=true; this revision\'s namespace (istio.io/rev=default)', async () => {
    for (const [ns, pod] of [['plain', webPod('w', { labels: { 'sidecar.istio.io/inject': 'true' } })], ['rev-default', webPod('w')]] as const) {
      const r = await client.review(pod, ns);
      assertSidecar(view(applyAnswer(pod, r)), { podName: 'w' });
    }
  });

  test('injecting is idempotent: the injected pod sent again comes back unpatched', async () => {
    const pod = webPod('again');
    const once = applyAnswer(pod, await client.review(pod, 'mesh-on'));
    const twice = await client.review(once, 'mesh-on');
    assert.equal(twice.allowed, true);
    assert.equal(twice.patch, undefined);
  });

  test('a Job\'s pod: native sidecar (the Job completes when its container does), workload named after the Job', async () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { generateName: 'migrate-', labels: { 'job-name': 'migrate' }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'migrate', controller: true, uid: 'u1' }] },
      spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'example/migrate:1', args: ['--once'] }] },
    };
    const out = view(applyAnswer(pod, await client.review(pod, 'mesh-on')));
    const proxy = assertSidecar(out, { podName: '' });
    assert.equal(proxy.env!.find((e) => e.name === 'ISTIO_META_WORKLOAD_NAME')?.value, 'migrate');
    assert.equal(proxy.env!.find((e) => e.name === 'ISTIO_META_OWNER')?.value, 'kubernetes://apis/batch/v1/namespaces/mesh-on/jobs/migrate');
    assert.deepEqual(out.spec.containers.map((c) => c.name), ['migrate']);
    assert.equal(out.spec.restartPolicy, 'Never');
  });

  test('several containers with named and numeric ports and HTTP/TCP/gRPC probes, traffic annotations, resources and the classic layout', async () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: 'multi',
        labels: { app: 'multi' },
        annotations: {
          'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8,172.16.0.0/12',
          'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.96.0.1/32',
          'traffic.sidecar.istio.io/excludeInboundPorts': '9000',
          'traffic.sidecar.istio.io/excludeOutboundPorts': '5432,6379',
          'sidecar.istio.io/proxyCPU': '250m', 'sidecar.istio.io/proxyMemory': '256Mi', 'sidecar.istio.io/proxyCPULimit': '1',
          'sidecar.istio.io/nativeSidecar': 'false',
          'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true',
          'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/metrics',
        },
      },
      spec: {
        initContainers: [{ name: 'setup', image: 'example/setup:1' }],
        containers: [
          { name: 'api', image: 'example/api:1', ports: [{ name: 'grpc', containerPort: 7070 }], readinessProbe: { grpc: { port: 7070 } } },
          { name: 'admin', image: 'example/admin:1', ports: [{ name: 'admin-http', containerPort: 9000 }], livenessProbe: { httpGet: { path: '/live', port: 'admin-http', scheme: 'HTTPS' } }, startupProbe: { tcpSocket: { port: 'admin-http' }, timeoutSeconds: 3 } },
        ],
      },
    };
    const out = view(applyAnswer(pod, await client.review(pod, 'mesh-on')));
    assertCapture(out, {
      classic: true,
      outboundInclude: ['10.0.0.0/8', '172.16.0.0/12'], outboundExclude: ['10.96.0.1/32'],
      inboundExclude: [...DEFAULT_EXCLUDED_INBOUND, 9000], outboundPortsExclude: [5432, 6379],
    });
    assert.deepEqual(out.spec.initContainers!.map((c) => c.name), ['setup', 'trellis-init'], 'classic layout: capture last, so the pod\'s own init containers run unmeshed (Istio\'s order)');
    assert.deepEqual(out.spec.containers.map((c) => c.name), ['trellis-proxy', 'api', 'admin'], 'classic layout, the proxy first to hold the apps');
    const proxy = assertSidecar(out, { classic: true, podName: 'multi' });
    assert.deepEqual((proxy as { lifecycle?: unknown }).lifecycle, { postStart: { exec: { command: ['trellis', 'wait', '--port', '15021'] } } });
    assert.deepEqual(proxy.resources, { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1' } });
    assert.equal(proxy.env!.find((e) => e.name === 'ISTIO_META_APP_CONTAINERS')?.value, 'api,admin');
    assertProbesRewritten(out, 'api', { '/app-health/api/readyz': { grpc: { port: 7070 } } });
    assertProbesRewritten(out, 'admin', {
      '/app-health/admin/livez': { httpGet: { path: '/live', port: 9000, scheme: 'HTTPS' } },
      '/app-health/admin/startupz': { tcpSocket: { port: 9000 }, timeoutSeconds: 3 },
    });
    const scrape = JSON.parse(proxy.env!.find((e) => e.name === 'ISTIO_PROMETHEUS_ANNOTATIONS')!.value!) as unknown;
    assert.deepEqual(scrape, { scrape: 'true', path: '/metrics', port: '9102' }, 'the app\'s own scrape settings travel to the proxy');
  });

  test('a pod with a malformed traffic annotation is refused with Istio\'s reason; dryRun gets the same answer', async () => {
    const bad = webPod('bad', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '80,not-a-port' } });
    const r = await client.review(bad, 'mesh-on');
    assert.equal(r.allowed, false);
    assert.match(r.result?.message ?? '', /excludeInboundPorts/);
    const good = webPod('dry');
    const wet = await client.review(good, 'mesh-on', { uid: 'uid-wet' });
    const dry = await client.review(good, 'mesh-on', { uid: 'uid-dry', dryRun: true });
    assert.equal(dry.uid, 'uid-dry');
    assert.equal(dry.patch, wet.patch, 'injection has no side effects: a dry run is answered the same');
  });

  test('malformed requests get clear errors and the server keeps serving', async () => {
    const post = (body: string, headers?: Record<string, string>) => client.post(body, headers);
    const cases: [string, () => Promise<{ status: number; review?: { response: { allowed: boolean; uid: string; result?: { message?: string } } }; text: string }>, number, RegExp][] = [
      ['not JSON', () => post('{"apiVersion":'), 200, /not JSON/],
      ['JSON but not an object', () => post('[1,2]'), 200, /not an AdmissionReview/],
      ['another kind', () => post(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', request: { uid: 'x' } })), 200, /expected kind AdmissionReview/],
      ['no request', () => post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })), 200, /no request/],
      ['no uid', () => post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { object: webPod('x') } })), 200, /no uid/],
      ['a pod without spec', () => post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', namespace: 'mesh-on', object: { kind: 'Pod', metadata: {} } } })), 200, /spec is missing/],
      ['containers that are not a list', () => post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', namespace: 'mesh-on', object: { kind: 'Pod', spec: { containers: 'web' } } } })), 200, /spec\.containers/],
      ['labels that are not strings', () => post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', namespace: 'mesh-on', object: { kind: 'Pod', metadata: { labels: { a: 1 } }, spec: { containers: [] } } } })), 200, /labels/],
      ['an empty body', () => post(''), 400, /no body/],
      ['another content type', () => post('{}', { 'content-type': 'text/plain' }), 415, /application\/json/],
      ['a GET', () => client.post('', {}, 'GET'), 405, /POST/],
    ];
    for (const [what, send, status, message] of cases) {
      const a = await send();
      assert.equal(a.status, status, `${what}: ${a.text}`);
      const text = a.review?.response.result?.message ?? a.text;
      assert.match(text, message, what);
      if (a.review) assert.equal(a.review.response.allowed, false, `${what}: nothing to let through unexplained`);
    }
    const deployment = await client.post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'dep', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, object: { kind: 'Deployment' } } }));
    assert.equal(deployment.review?.response.allowed, true, 'a kind the webhook should not have been sent is let through');
    assert.equal(deployment.review?.response.uid, 'dep');
    assert.match(deployment.review?.response.warnings?.[0] ?? '', /not a Pod/);
    // Garbage on the TLS port, then a request cut off mid-body: nothing ends the server.
    const [host, port] = [mesh.webhook.slice(0, mesh.webhook.lastIndexOf(':')), Number(mesh.webhook.slice(mesh.webhook.lastIndexOf(':') + 1))];
    await new Promise<void>((resolve) => {
      const s = net.connect(port, host, () => s.end('GET /inject HTTP/1.1\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    await new Promise<void>((resolve) => {
      const s = connect({ host, port, servername: 'istiod.istio-system.svc', ca: mesh.rootPem }, () => {
        s.write('POST /inject HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"apiVersion"');
        s.destroy();
        resolve();
      });
      s.on('error', () => resolve());
    });
    const r = await client.review(webPod('after'), 'mesh-on');
    assert.equal(r.allowed, true);
    assert.ok(r.patch, 'still injecting');
    assert.equal(mesh.cp.child.exitCode, null);
  });
});
