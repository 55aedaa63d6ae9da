import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectKey, type AnyObject, type Service } from '../../../src/config/objects.js';
import { allocateClusterIps, cidrContains, parseIpv4, parseServiceCidr } from '../../../src/config/cluster-ip.js';
import { mergeStates } from '../../../src/controlplane/sources/union-source.js';
import { ClusterIpSource, withClusterIps } from '../../../src/controlplane/sources/cluster-ip-source.js';
import { DirectorySource } from '../../../src/controlplane/sources/directory-source.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { States } from './helpers.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';

function svc(name: string, ns = 'default', spec: Service['spec'] = { ports: [{ port: 80 }] }): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec };
}
function mapOf(...objs: AnyObject[]): Map<string, AnyObject> {
  return new Map(objs.map((o) => [objectKey(o), o]));
}
const ipOf = (m: ReadonlyMap<string, AnyObject>, name: string, ns = 'default') => (m.get(`Service/${ns}/${name}`) as Service).spec.clusterIP;
const cidr = parseServiceCidr('10.96.0.0/16');

test('issue 13 item 2: a Service without clusterIP gets one from the range, as the API server would (clusterIP and clusterIPs)', () => {
  const { objects, problems } = allocateClusterIps(mapOf(svc('tcp-echo'), svc('web', 'shop')), cidr);
  assert.deepEqual(problems, []);
  for (const [name, ns] of [['tcp-echo', 'default'], ['web', 'shop']] as const) {
    const ip = ipOf(objects, name, ns)!;
    assert.ok(cidrContains(cidr, parseIpv4(ip)!), ip);
    assert.notEqual(ip, '10.96.0.0');
    assert.notEqual(ip, '10.96.0.1');
    assert.deepEqual((objects.get(`Service/${ns}/${name}`) as Service).spec.clusterIPs, [ip]);
  }
  assert.notEqual(ipOf(objects, 'tcp-echo'), ipOf(objects, 'web', 'shop'));
});

test('the same Services give the same IPs, in any order and whatever else changes', () => {
  const a = allocateClusterIps(mapOf(svc('a'), svc('b'), svc('c', 'x')), cidr).objects;
  const b = allocateClusterIps(mapOf(svc('c', 'x'), svc('b'), svc('a'), svc('new-one')), cidr).objects;
  for (const n of ['a', 'b']) assert.equal(ipOf(a, n), ipOf(b, n));
  assert.equal(ipOf(a, 'c', 'x'), ipOf(b, 'c', 'x'));
});

test('given IPs, headless and ExternalName Services are left alone; a given IP is never handed out again', () => {
  const given = svc('given', 'default', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
  const headless = svc('headless', 'default', { clusterIP: 'None', ports: [{ port: 80 }] });
  const external = svc('ext', 'default', { type: 'ExternalName', externalName: 'example.com' });
  const input = mapOf(given, headless, external);
  const out = allocateClusterIps(input, cidr);
  assert.equal(out.objects, input);
  // A tiny range makes every allocation collide: probing skips the taken address and stays deterministic.
  const small = parseServiceCidr('10.96.0.16/28');
  const r1 = allocateClusterIps(mapOf(svc('given', 'default', { clusterIP: '10.96.0.20' }), ...'abcdefghijk'.split('').map((n) => svc(n))), small);
  const ips = 'abcdefghijk'.split('').map((n) => ipOf(r1.objects, n));
  assert.equal(new Set(ips).size, 11);
  assert.ok(!ips.includes('10.96.0.20'));
  const r2 = allocateClusterIps(mapOf(...'kjihgfedcba'.split('').map((n) => svc(n)), svc('given', 'default', { clusterIP: '10.96.0.20' })), small);
  assert.deepEqual('abcdefghijk'.split('').map((n) => ipOf(r2.objects, n)), ips);
  // 13 usable addresses in a /28 (.18–.30) minus the given one: a thirteenth Service has none, and that is a problem, not a crash.
  const full = allocateClusterIps(mapOf(svc('given', 'default', { clusterIP: '10.96.0.20' }), ...'abcdefghijklm'.split('').map((n) => svc(n))), small);
  assert.equal(full.problems.length, 1);
  assert.match(full.problems[0]!.reason, /no free cluster IP left in 10\.96\.0\.16\/28/);
});

test('service CIDRs are checked', () => {
  assert.throws(() => parseServiceCidr('10.96.0.0'), /expected an IPv4 range/);
  assert.throws(() => parseServiceCidr('10.96.0.0/30'), /expected an IPv4 range/);
  assert.throws(() => parseServiceCidr('300.1.0.0/16'), /expected an IPv4 range/);
  assert.deepEqual(parseServiceCidr('10.96.7.9/16'), { base: parseIpv4('10.96.0.0'), prefix: 16, text: '10.96.7.9/16' });
});

test('several config directories: the later one wins an object, as successive kubectl applies', () => {
  const first = { objects: mapOf(svc('a'), svc('b')), problems: [{ code: 'CONFIG_INVALID' as const, file: 'A/x.yaml', line: 1, reason: 'r1' }], revision: 3 };
  const later = { objects: mapOf(svc('b', 'default', { clusterIP: '10.96.9.9' })), problems: [], revision: 1 };
  const m = mergeStates([first, later]);
  assert.equal(ipOf(m.objects, 'b'), '10.96.9.9');
  assert.deepEqual([...m.objects.keys()], ['Service/default/a', 'Service/default/b']);
  assert.deepEqual(m.overridden, ['Service/default/b']);
  assert.deepEqual(m.problems.map((p) => p.reason), ['r1']);
});

test('issue 13 item 2: a TCP Service written without clusterIP gets its outbound listener (it had none)', () => {
  const tcpEcho = svc('tcp-echo', 'default', { selector: { app: 'tcp-echo' }, ports: [{ name: 'tcp', port: 9000 }] });
  const state = { objects: mapOf(tcpEcho), problems: [], revision: 1 };
  const node = parseNodeId('sidecar~10.0.0.9~client.default~default.svc.cluster.local');
  const without = [...createGenerator(buildModel(state), routeBuilders).generate(node, TypeUrl.Listener, undefined).keys()];
  assert.ok(!without.some((n) => n.endsWith('_9000')), without.join(', '));
  const allocated = withClusterIps(state, cidr);
  const ip = ipOf(allocated.objects, 'tcp-echo');
  const names = [...createGenerator(buildModel(allocated), routeBuilders).generate(node, TypeUrl.Listener, undefined).keys()];
  assert.ok(names.includes(`${ip}_9000`), names.join(', '));
});

test('issue 16: through the directory source, an addressed Service keeps its identity while the Services do not change', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-clusterip-'));
  const source = new ClusterIpSource(new DirectorySource(dir, { pollMs: 60_000 }), cidr);
  try {
    const service = (port: number) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: ${port}\n`;
    const slice = (ip: string) => `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-1\n  labels:\n    kubernetes.io/service-name: web\naddressType: IPv4\nendpoints:\n- addresses: ["${ip}"]\n`;
    await writeFile(join(dir, 'svc.yaml'), service(80));
    await writeFile(join(dir, 'slice.yaml'), slice('10.0.0.1'));
    const states = new States();
    await source.start(states.push);
    const initial = await states.next();
    const first = initial.objects.get('Service/default/web')!;
    assert.ok(ipOf(initial.objects, 'web'), 'addressed');
    await writeFile(join(dir, 'slice.yaml'), slice('10.0.0.2'));
    const second = await states.until((s) => JSON.stringify(s.objects.get('EndpointSlice/default/web-1')).includes('10.0.0.2'));
    assert.equal(second.objects.get('Service/default/web'), first, 'only an endpoint changed: the same addressed Service');
    await writeFile(join(dir, 'svc.yaml'), service(81));
    const third = await states.until((s) => s.objects.get('Service/default/web') !== first);
    assert.equal((third.objects.get('Service/default/web')!.spec as { clusterIP: string }).clusterIP, (first.spec as { clusterIP: string }).clusterIP);
  } finally {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
