/**
 * `trellis ztunnel-config`: istioctl ztunnel-config's tables from a node
 * proxy's config dump (columns, sort, filters, waypoint and endpoint words,
 * certificate rows), the dump's two shapes, and which node proxy a command
 * reads from the state file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateRows, CERTIFICATES_HEADER } from '../../../src/debug/ztunnel-config/certificates-table.js';
import { parseZtunnelDump } from '../../../src/debug/ztunnel-config/dump.js';
import { policyRows, serviceRows, workloadRows, WORKLOADS_HEADER, SERVICES_HEADER, POLICIES_HEADER } from '../../../src/debug/ztunnel-config/tables.js';
import { resolveZtunnelTarget } from '../../../src/debug/ztunnel-config/target.js';
import { ztunnelConfig } from '../../../src/debug/ztunnel-config/ztunnel-config.js';
import type { FoundState } from '../../../src/local/state-file.js';
import { TrellisError } from '../../../src/errors.js';

const now = Date.parse('2026-06-01T12:00:00Z');

const raw = {
  workloads: [
    { uid: 'u-web', workloadIps: ['10.244.0.5'], protocol: 'HBONE', name: 'web-6c8f9-abcde', namespace: 'shop', node: 'node-1', status: 'Healthy', waypoint: { destination: 'shop/waypoint.shop.svc.cluster.local' } },
    { uid: 'u-x', workloadIps: ['10.244.0.9'], protocol: 'HBONE', name: 'web-other', namespace: 'shop', node: 'node-1', status: 'Healthy', waypoint: { destination: '/10.96.0.50' } },
    { uid: 'u-solo', workloadIps: ['10.244.0.6'], protocol: 'HBONE', name: 'solo', namespace: 'default', node: 'node-1', status: 'Healthy' },
    { uid: 'u-plain', workloadIps: [], hostname: 'plain.example', protocol: 'TCP', name: 'plain', namespace: 'default', node: 'node-2', status: 'Unhealthy', waypoint: { destination: 'shop/gone' } },
  ],
  services: [
    { name: 'web', namespace: 'shop', hostname: 'web.shop.svc.cluster.local', vips: ['/10.96.0.10'], endpoints: { '/10.244.0.5': { workloadUid: 'u-web' }, '/10.244.0.9': { workloadUid: 'u-x' }, '/10.244.0.77': { workloadUid: 'u-gone' } } },
    { name: 'waypoint', namespace: 'shop', hostname: 'waypoint.shop.svc.cluster.local', vips: ['/10.96.0.50'], endpoints: {} },
    { name: 'plain', namespace: 'default', hostname: 'plain.default.svc.cluster.local', vips: ['/10.96.0.20', 'net1/fd00::20'], endpoints: { '/10.244.0.8': { workloadUid: 'u-plain' } } },
  ],
  policies: [
    { name: 'deny-web', namespace: 'shop', action: 'Deny', scope: 'WorkloadSelector' },
    { name: 'allow-all', namespace: 'default', action: 'Allow', scope: 'Namespace' },
  ],
  certificates: [
    { identity: 'spiffe://cluster.local/ns/shop/sa/web', state: 'Available', certChain: [
      { pem: '', serialNumber: '255', validFrom: '2026-06-01T00:00:00Z', expirationTime: '2026-06-02T00:00:00Z' },
      { pem: '', serialNumber: '4096', validFrom: '2026-01-01T00:00:00Z', expirationTime: '2026-05-01T00:00:00Z' },
    ] },
    { identity: 'spiffe://cluster.local/ns/default/sa/default', state: 'Initializing', certChain: [] },
    { identity: 'spiffe://cluster.local/ns/x/sa/y', state: 'Unavailable: the CA refused', certChain: [] },
  ],
};
const dump = parseZtunnelDump(raw, 'test');

test('workloads: istioctl\'s columns, by namespace.name; the address or else the hostname; the waypoint by service hostname or VIP, NA when unknown', () => {
  assert.deepEqual(WORKLOADS_HEADER, ['NAMESPACE', 'POD NAME', 'ADDRESS', 'NODE', 'WAYPOINT', 'PROTOCOL']);
  assert.deepEqual(workloadRows(dump, {}), [
    ['default', 'plain', 'plain.example', 'node-2', 'NA', 'TCP'],
    ['default', 'solo', '10.244.0.6', 'node-1', 'None', 'HBONE'],
    ['shop', 'web-6c8f9-abcde', '10.244.0.5', 'node-1', 'waypoint', 'HBONE'],
    ['shop', 'web-other', '10.244.0.9', 'node-1', 'waypoint', 'HBONE'],
  ]);
  // Filters compare without case, as istioctl's EqualFold.
  assert.deepEqual(workloadRows(dump, { namespace: 'SHOP', node: 'Node-1', address: '10.244.0.9' }).map((r) => r[1]), ['web-other']);
  assert.deepEqual(workloadRows(dump, { name: 'solo', namespace: 'default' }).map((r) => r[1]), ['solo']);
});

test('services: VIPs without their network, endpoints HEALTHY/ALL counted from the workloads\' status', () => {
  assert.deepEqual(SERVICES_HEADER, ['NAMESPACE', 'SERVICE NAME', 'SERVICE VIP', 'WAYPOINT', 'ENDPOINTS']);
  assert.deepEqual(serviceRows(dump), [
    ['default', 'plain', '10.96.0.20,fd00::20', 'None', '0/1'],
    ['shop', 'waypoint', '10.96.0.50', 'None', '0/0'],
    ['shop', 'web', '10.96.0.10', 'None', '2/3'],
  ]);
  assert.deepEqual(serviceRows(dump, 'shop').map((r) => r[1]), ['waypoint', 'web']);
});

test('policies: by namespace and name, tabwriter padding 1 as istioctl prints them', async () => {
  assert.deepEqual(POLICIES_HEADER, ['NAMESPACE', 'POLICY NAME', 'ACTION', 'SCOPE']);
  assert.deepEqual(policyRows(dump, 'shop'), [['shop', 'deny-web', 'Deny', 'WorkloadSelector']]);
  let out = '';
  await withDumpFile(raw, (file) => ztunnelConfig({ verb: 'policies', target: { label: file, file }, output: 'short', workloads: {} }, (t) => (out += t)));
  assert.equal(out, [
    'NAMESPACE POLICY NAME ACTION SCOPE',
    'default   allow-all   Allow  Namespace',
    'shop      deny-web    Deny   WorkloadSelector',
    '',
  ].join('\n'));
});

test('certificates: Leaf then Root (the chain\'s last, without rootCerts), hex serial, validity at now; NA rows; Unavailable shortened', () => {
  assert.deepEqual(CERTIFICATES_HEADER, ['CERTIFICATE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE']);
  assert.deepEqual(certificateRows(dump, now), [
    ['spiffe://cluster.local/ns/shop/sa/web', 'Leaf', 'Available', 'true', 'ff', '2026-06-02T00:00:00Z', '2026-06-01T00:00:00Z'],
    ['spiffe://cluster.local/ns/shop/sa/web', 'Root', 'Available', 'false', '1000', '2026-05-01T00:00:00Z', '2026-01-01T00:00:00Z'],
    ['spiffe://cluster.local/ns/default/sa/default', 'NA', 'Initializing', 'false', 'NA', 'NA', 'NA'],
    ['spiffe://cluster.local/ns/x/sa/y', 'NA', 'Unavailable', 'false', 'NA', 'NA', 'NA'],
  ]);
  const withRoots = parseZtunnelDump({ certificates: [{ identity: 'i', state: 'Available', certChain: [{ serialNumber: '1' }, { serialNumber: '2' }], rootCerts: [{ serialNumber: '3' }] }] }, 't');
  assert.deepEqual(certificateRows(withRoots, now).map((r) => r[1]), ['Leaf', 'Intermediate', 'Root']);
});

test('all: every table after an empty line, with --with-headers titles; certificates with padding 5; -o json of one verb is its items', async () => {
  let out = '';
  await withDumpFile(raw, (file) => ztunnelConfig({ verb: 'all', target: { label: file, file }, output: 'short', workloads: {}, withHeaders: true, now }, (t) => (out += t)));
  const titles = out.split('\n').filter((l) => l.startsWith('------'));
  assert.deepEqual(titles, ['------ WORKLOAD INFO ------', '------ SERVICE INFO ------', '------ POLICY INFO ------', '------ SECRET INFO ------']);
  assert.match(out, /^\n------ WORKLOAD INFO ------\n\nNAMESPACE POD NAME /);
  assert.match(out, /\nCERTIFICATE NAME {5,}TYPE {5}STATUS {11}VALID CERT/);
  let json = '';
  await withDumpFile(raw, (file) => ztunnelConfig({ verb: 'workloads', target: { label: file, file, workload: { name: 'solo', namespace: 'default' } }, output: 'json', workloads: {} }, (t) => (json += t)));
  assert.deepEqual(JSON.parse(json), [raw.workloads[2]]);
});

test('the dump: a map of items is read as a list (older ztunnels); an Envoy dump is refused with what to use instead', () => {
  const asMap = parseZtunnelDump({ workloads: { a: raw.workloads[0], b: raw.workloads[1] } }, 't');
  assert.equal(asMap.workloads.length, 2);
  assert.throws(() => parseZtunnelDump({ configs: [] }, 'x.json'), (e: unknown) => e instanceof TrellisError && /x\.json: not a node proxy's config dump.*trellis proxy-config/.test(e.message));
  assert.throws(() => parseZtunnelDump({ workloads: 'nope' }, 'x.json'), /"workloads" is not a list/);
});

const state = (extra: Partial<FoundState['state']> = {}): FoundState => ({
  path: '/run/trellis/mesh.json',
  stale: false,
  state: {
    controlPlane: { debug: '127.0.0.1:15014', xds: '127.0.0.1:15010' },
    pods: [{ name: 'web-6c8f9-abcde', namespace: 'shop', ip: '10.244.0.5', netns: 'trellis-web', node: 'node-1' }, { name: 'solo', namespace: 'default', ip: '10.244.0.6', node: 'node-2' }],
    nodeProxies: [
      { name: 'ztunnel-node-2', namespace: 'istio-system', node: 'node-2', admin: '127.0.0.1:15000', netns: 'node-2' },
      { name: 'ztunnel-node-1', namespace: 'istio-system', node: 'node-1', admin: '127.0.0.1:15000', netns: 'node-1', pid: 42 },
    ],
    ...extra,
  },
});

test('target: the named node proxy, a workload pod\'s node proxy (and that workload), --node, the first one; errors that say what to do', async () => {
  const code = (c: string, re: RegExp) => (e: unknown) => e instanceof TrellisError && e.code === c && re.test(e.message);
  assert.deepEqual(await resolveZtunnelTarget({ pod: 'ztunnel-node-2.istio-system', single: true }, () => state()), { label: 'ztunnel-node-2.istio-system', admin: '127.0.0.1:15000', netns: 'node-2' });
  assert.deepEqual(await resolveZtunnelTarget({ pod: 'web-6c8f9-abcde.shop', single: false }, () => state()),
    { label: 'ztunnel-node-1.istio-system', admin: '127.0.0.1:15000', netns: 'node-1', workload: { name: 'web-6c8f9-abcde', namespace: 'shop' } });
  assert.equal((await resolveZtunnelTarget({ node: 'node-2', single: false }, () => state())).label, 'ztunnel-node-2.istio-system');
  assert.equal((await resolveZtunnelTarget({ single: false }, () => state())).label, 'ztunnel-node-1.istio-system');
  await assert.rejects(resolveZtunnelTarget({ single: true }, () => state()), code('CLI_USAGE', /ztunnel pod name or --node must be set/));
  await assert.rejects(resolveZtunnelTarget({ node: 'node-1', pod: 'solo', single: false }, () => state()), code('CLI_USAGE', /at most one of --file, --node, or pod name/));
  await assert.rejects(resolveZtunnelTarget({ node: 'node-9', single: false }, () => state()), code('POD_NOT_FOUND', /no node proxy on node node-9; node proxies: ztunnel-node-1\.istio-system \(node node-1\)/));
  await assert.rejects(resolveZtunnelTarget({ pod: 'nope', single: false }, () => state()), code('POD_NOT_FOUND', /pod "nope" not found/));
  await assert.rejects(resolveZtunnelTarget({ single: false }, () => state({ nodeProxies: undefined })), code('MESH_NOT_FOUND', /no node proxy runs.*istio\.io\/dataplane-mode=ambient/));
  await assert.rejects(resolveZtunnelTarget({ single: false }, () => undefined), code('MESH_NOT_FOUND', /trellis up/));
  assert.deepEqual(await resolveZtunnelTarget({ file: 'd.json', single: true }, () => state()), { label: 'd.json', file: 'd.json' });
});

async function withDumpFile(v: unknown, f: (file: string) => Promise<unknown>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-zc-'));
  try {
    const file = join(dir, 'dump.json');
    await writeFile(file, JSON.stringify(v));
    await f(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
