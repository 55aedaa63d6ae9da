/**
 * istiod's node authorizer through the real `trellis controlplane --ca-dir`
 * binary, over its gRPC TLS port with a grpc-js client: a node proxy
 * (istio-system/ztunnel, its token bound to its pod by `trellis token create
 * --pod`) names another identity in the request's ImpersonatedIdentity and
 * gets it only for a service account with a pod on its own node — the pods
 * and their spec.nodeName come from the control plane's config (two nodes
 * here). Everyone else asking for another identity is refused with the
 * reason, a refusal issues nothing, and requests without impersonation are
 * served as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { waitFor } from '../../helpers/ads-client.js';
import { TestCaClient, tokenCreate, type CaAnswer } from '../../helpers/ca-client.js';
import { Scratch } from '../../helpers/openssl.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const spiffe = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;
const pod = (ns: string, name: string, sa: string, node: string, uid: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${ns}, uid: ${uid}}\nspec: {serviceAccountName: ${sa}, nodeName: ${node}, containers: [{name: app, image: app}]}\n`;
// node-a: the node proxy and cart; node-b: payments (and cart again).
const PODS = [
  pod('istio-system', 'ztunnel-a', 'ztunnel', 'node-a', 'uid-ztunnel-a'),
  pod('shop', 'cart-1', 'cart', 'node-a', 'uid-cart-1'),
  pod('shop', 'cart-2', 'cart', 'node-b', 'uid-cart-2'),
  pod('shop', 'payments-1', 'payments', 'node-b', 'uid-payments-1'),
].join('---\n');

describe('the CA\'s node authorizer: ImpersonatedIdentity on the TLS port', () => {
  const s = new Scratch();
  let work: string;
  let caDir: string;
  let configDir: string;
  let cpProc: TrellisProcess;
  let debug: string;
  let client: TestCaClient;
  let ztunnel: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'trellis-nodeauth-'));
    caDir = join(work, 'ca');
    configDir = join(work, 'config');
    await mkdir(configDir);
    await writeFile(join(configDir, 'pods.yaml'), PODS);
    cpProc = new TrellisProcess(['controlplane', '--config-dir', configDir, '--xds-port', '0', '--debug-port', '0', '--ca-port', '0', '--ca-dir', caDir, '--debounce-ms', '10']);
    const ready = jsonLine<{ debug: string; ca?: string }>(await cpProc.waitForLine((l) => jsonLine(l)?.ca !== undefined, 20_000))!;
    debug = `http://${ready.debug}`;
    client = new TestCaClient(ready.ca!, await readFile(join(caDir, 'root-cert.pem'), 'utf8'));
    ztunnel = tokenCreate(caDir, 'istio-system', 'ztunnel', ['--pod', 'ztunnel-a', '--pod-uid', 'uid-ztunnel-a']);
  });

  after(async () => {
    client?.close();
    await cpProc?.stop();
    s.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A CreateCertificate for `ns/sa` (the CSR asks for it) with `token`, impersonating it when `impersonate`. */
  const ask = (token: string, ns: string, sa: string, impersonate = true): Promise<CaAnswer> =>
    client.createCertificate(s.csr('ec', [spiffe(ns, sa)]).csrPem, token, 0, impersonate ? { ImpersonatedIdentity: spiffe(ns, sa) } : undefined);
  // A counter never incremented is not exposed yet: 0.
  const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`${debug}/metrics`)).text())?.[1] ?? 0);
  const denied = (a: CaAnswer, why: RegExp) => {
    assert.ok(!a.ok, 'refused');
    assert.equal(a.code, status.PERMISSION_DENIED, a.details);
    assert.match(a.details, why);
  };

  test('the node proxy gets the identity of a service account with a pod on its node; the leaf carries that SPIFFE URI', async () => {
    const a = await ask(ztunnel, 'shop', 'cart');
    assert.ok(a.ok, JSON.stringify(a));
    assert.equal(new X509Certificate(a.certChain[0]!).subjectAltName, `URI:${spiffe('shop', 'cart')}`);
  });

  test('pods only on another node, no pod, a non-node-proxy caller: PERMISSION_DENIED with the reason, and nothing issued', async () => {
    const issued = await metric('citadel_server_success_cert_issuance_count');
    const authn = await metric('citadel_server_authentication_failure_count');
    denied(await ask(ztunnel, 'shop', 'payments'), /impersonation of spiffe:\/\/cluster\.local\/ns\/shop\/sa\/payments refused: no pod with service account shop\/payments runs on node node-a/);
    denied(await ask(ztunnel, 'shop', 'nobody'), /no pod with service account shop\/nobody runs on node node-a/);
    const cart = tokenCreate(caDir, 'shop', 'cart', ['--pod', 'cart-1']);
    denied(await ask(cart, 'shop', 'payments'), /caller shop\/cart is not a node proxy and may not ask for another identity \(trusted node accounts: istio-system\/ztunnel\)/);
    // A node proxy's token bound to a pod that is not (or no longer) its own.
    denied(await ask(tokenCreate(caDir, 'istio-system', 'ztunnel', ['--pod', 'ztunnel-a', '--pod-uid', 'uid-old']), 'shop', 'cart'), /has uid uid-ztunnel-a, not the token's uid-old/);
    // Asking for one identity in the metadata and another in the CSR.
    const mixed = await client.createCertificate(s.csr('ec', [spiffe('shop', 'payments')]).csrPem, ztunnel, 0, { ImpersonatedIdentity: spiffe('shop', 'cart') });
    denied(mixed, /asks for spiffe:\/\/cluster\.local\/ns\/shop\/sa\/payments, but the caller proved spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart/);
    const notString = await client.createCertificate(s.csr('ec', [spiffe('shop', 'cart')]).csrPem, ztunnel, 0, { ImpersonatedIdentity: 7 });
    assert.ok(!notString.ok && notString.code === status.INVALID_ARGUMENT, JSON.stringify(notString));
    assert.equal(await metric('citadel_server_success_cert_issuance_count'), issued, 'a refusal issues nothing');
    assert.equal(await metric('citadel_server_authentication_failure_count'), authn + 4, 'impersonation refusals counted as istiod counts them');
    await waitFor(() => cpProc.stderr.some((l) => /certificate request refused/.test(l) && /shop\/payments runs on node node-a/.test(l)), 5000);
  });

  test('without ImpersonatedIdentity every caller gets its own identity, as before', async () => {
    const cart = await ask(tokenCreate(caDir, 'shop', 'cart'), 'shop', 'cart', false);
    assert.ok(cart.ok, JSON.stringify(cart));
    assert.equal(new X509Certificate(cart.certChain[0]!).subjectAltName, `URI:${spiffe('shop', 'cart')}`);
    const own = await ask(ztunnel, 'istio-system', 'ztunnel', false);
    assert.ok(own.ok, JSON.stringify(own));
    denied(await ask(ztunnel, 'shop', 'cart', false), /the CSR asks for spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart, but the caller proved spiffe:\/\/cluster\.local\/ns\/istio-system\/sa\/ztunnel/);
  });

  test('--ca-trusted-node-accounts replaces the default; a node-bound token names the node directly', async () => {
    const other = new TrellisProcess(['controlplane', '--config-dir', configDir, '--xds-port', '0', '--debug-port', '0', '--ca-port', '0', '--ca-dir', caDir,
      '--ca-trusted-node-accounts', 'kube-system/node-proxy']);
    let c: TestCaClient | undefined;
    try {
      const ready = jsonLine<{ ca?: string }>(await other.waitForLine((l) => jsonLine(l)?.ca !== undefined, 20_000))!;
      c = new TestCaClient(ready.ca!, await readFile(join(caDir, 'root-cert.pem'), 'utf8'));
      const on = (token: string, ns: string, sa: string) => c!.createCertificate(s.csr('ec', [spiffe(ns, sa)]).csrPem, token, 0, { ImpersonatedIdentity: spiffe(ns, sa) });
      const nodeProxy = tokenCreate(caDir, 'kube-system', 'node-proxy', ['--node', 'node-b']);
      const payments = await on(nodeProxy, 'shop', 'payments');
      assert.ok(payments.ok, JSON.stringify(payments));
      assert.equal(new X509Certificate(payments.certChain[0]!).subjectAltName, `URI:${spiffe('shop', 'payments')}`);
      denied(await on(ztunnel, 'shop', 'cart'), /caller istio-system\/ztunnel is not a node proxy .*\(trusted node accounts: kube-system\/node-proxy\)/);
    } finally {
      c?.close();
      await other.stop();
    }
  });

  test('the view follows the config: a payments pod scheduled on node-a makes payments allowed', async () => {
    await writeFile(join(configDir, 'pods.yaml'), PODS + '---\n' + pod('shop', 'payments-2', 'payments', 'node-a', 'uid-payments-2'));
    // Bounded: the directory watch and the next revision take well under a second.
    let last: CaAnswer | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(last = await ask(ztunnel, 'shop', 'payments')).ok) await new Promise((r) => setTimeout(r, 50));
    assert.ok(last?.ok, JSON.stringify(last));
    assert.equal(new X509Certificate(last.certChain[0]!).subjectAltName, `URI:${spiffe('shop', 'payments')}`);
  });
});
