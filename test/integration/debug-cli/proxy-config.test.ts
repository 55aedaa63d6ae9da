/**
 * `trellis proxy-config` against a real sidecar that took its config from the
 * real control plane (and its certificate from the control plane's CA):
 * istioctl's rows per type, the VIRTUAL SERVICE and DESTINATION RULE columns
 * from istiod's istio.config metadata, filters, Envoy's JSON, log levels read
 * and changed, a saved config dump, and the errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { RunningProxy } from '../proxy/harness.js';
import { eventually } from '../proxy/harness.js';
import { run, startControlPlane, startSidecar, stopAll, table, type ControlPlane } from './mesh.js';

const CLUSTERS = ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'];
const LISTENERS = ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'];
const ROUTES = ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'];
const ENDPOINTS = ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'];
const SECRETS = ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'];

describe('trellis proxy-config', () => {
  let cpl: ControlPlane;
  let proxy: RunningProxy;
  let admin: string;
  const pc = (...args: string[]) => run(['proxy-config', ...args, '--admin', admin]);

  before(async () => {
    cpl = await startControlPlane(true);
    proxy = await startSidecar(cpl, 'productpage-v1', '10.244.0.10', { serviceAccount: 'productpage' });
    admin = `127.0.0.1:${proxy.adminPort}`;
    await eventually(async () => (await proxy.admin('/certs')).body.includes('spiffe://cluster.local/ns/default/sa/productpage'), 15_000, 'the workload certificate');
    await eventually(async () => (await pc('endpoints')).stdout.includes('10.244.0.14:5432'), 10_000, 'endpoints');
  });

  after(() => stopAll(cpl, proxy));

  test('clusters: Istio names split into FQDN, port, subset, direction; the DestinationRule from istio.config', async () => {
    const r = await pc('clusters');
    assert.equal(r.code, 0, r.stderr);
    const rows = table(r.stdout, CLUSTERS).map((x) => Object.values(x).join(' | '));
    assert.deepEqual(rows, [
      ' | 9080 | - | inbound | ORIGINAL_DST | ',
      'BlackHoleCluster | - | - | - | STATIC | ',
      'InboundPassthroughCluster | - | - | - | ORIGINAL_DST | ',
      'PassthroughCluster | - | - | - | ORIGINAL_DST | ',
      'db.default.svc.cluster.local | 5432 | - | outbound | EDS | ',
      'productpage.default.svc.cluster.local | 9080 | - | outbound | EDS | ',
      'ratings.default.svc.cluster.local | 9080 | - | outbound | EDS | ratings.default',
      'reviews.default.svc.cluster.local | 9080 | - | outbound | EDS | reviews.default',
      'reviews.default.svc.cluster.local | 9080 | v1 | outbound | EDS | reviews.default',
      'reviews.default.svc.cluster.local | 9080 | v2 | outbound | EDS | reviews.default',
      'reviews.default.svc.cluster.local | 9080 | v3 | outbound | EDS | reviews.default',
    ]);
    const v1 = await pc('clusters', '--fqdn', 'reviews.default.svc.cluster.local', '--subset', 'v1');
    assert.deepEqual(table(v1.stdout, CLUSTERS).map((x) => x['SUBSET']), ['v1']);
    assert.deepEqual(table((await pc('clusters', '--direction', 'inbound')).stdout, CLUSTERS).map((x) => x['PORT']), ['9080']);
  });

  test('clusters -o json / -o yaml: the selected clusters as Envoy JSON, with istiod\'s metadata', async () => {
    const json = JSON.parse((await pc('clusters', '--fqdn', 'reviews', '-o', 'json')).stdout) as { name: string; type: string; metadata?: { filterMetadata: { istio: { config: string } } } }[];
    assert.deepEqual(json.map((c) => c.name), ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080|v1|reviews.default.svc.cluster.local', 'outbound|9080|v2|reviews.default.svc.cluster.local', 'outbound|9080|v3|reviews.default.svc.cluster.local']);
    assert.ok(json.every((c) => c.type === 'EDS' && c.metadata?.filterMetadata.istio.config === '/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews'));
    const yaml = parse((await pc('clusters', '--port', '5432', '-o', 'yaml')).stdout) as { name: string }[];
    assert.deepEqual(yaml.map((c) => c.name), ['outbound|5432||db.default.svc.cluster.local']);
  });

  test('listeners: per filter chain, by port; capture listeners, the HTTP route and the TCP service', async () => {
    const rows = table((await pc('listeners')).stdout, LISTENERS);
    const line = (x: Record<string, string>) => `${x['ADDRESSES']} ${x['PORT']} ${x['MATCH']} -> ${x['DESTINATION']}`;
    assert.deepEqual(rows.map(line), [
      '10.96.0.13 5432 ALL -> Cluster: outbound|5432||db.default.svc.cluster.local',
      '0.0.0.0 9080 ALL -> Route: 9080',
      '0.0.0.0 15001 ALL -> PassthroughCluster',
      // virtualInbound as istiod builds it under the fixture's STRICT policy: blackhole, mTLS passthrough, the port's mTLS chain.
      '0.0.0.0 15006 Addr: *:15006 -> Non-HTTP/Non-TCP',
      '0.0.0.0 15006 Trans: tls; App: istio-http/1.0,istio-http/1.1,istio-h2 -> InboundPassthroughCluster',
      '0.0.0.0 15006 Trans: tls -> InboundPassthroughCluster',
      '0.0.0.0 15006 Trans: tls; Addr: *:9080 -> Cluster: inbound|9080||',
    ]);
    assert.deepEqual(table((await pc('listeners', '--port', '15006')).stdout, LISTENERS).length, 4);
    assert.deepEqual(table((await pc('listeners', '--type', 'TCP')).stdout, LISTENERS).map((x) => x['PORT']), ['5432', '15001']);
    // virtualInbound: the blackhole, the HTTP and TCP mTLS passthroughs and the mTLS chain for 9080.
    assert.deepEqual(table((await pc('listeners', '--type', 'http+tcp')).stdout, LISTENERS).map((x) => x['PORT']), ['15006', '15006', '15006', '15006']);
  });

  test('routes: one row per route; the VirtualService from istio.config; short domains', async () => {
    const rows = table((await pc('routes')).stdout, ROUTES);
    const reviews = rows.filter((x) => x['VHOST NAME'] === 'reviews.default.svc.cluster.local:9080');
    assert.equal(reviews.length, 2, 'the header route and the split');
    for (const x of reviews) {
      assert.equal(x['NAME'], '9080');
      assert.equal(x['DOMAINS'], 'reviews, reviews.default + 1 more...');
      assert.equal(x['VIRTUAL SERVICE'], 'reviews.default');
    }
    const ratings = rows.find((x) => x['VHOST NAME'] === 'ratings.default.svc.cluster.local:9080');
    assert.equal(ratings?.['VIRTUAL SERVICE'], '', 'no VirtualService: the default route');
    assert.equal(ratings?.['MATCH'], '/*');
    assert.equal(table((await pc('routes', '--name', 'nope')).stdout, ROUTES).length, 0);
  });

  test('endpoints: from /clusters, sorted by address; filters', async () => {
    const rows = table((await pc('endpoints')).stdout, ENDPOINTS);
    assert.ok(rows.some((x) => x['ENDPOINT'] === '10.244.0.11:9080' && x['STATUS'] === 'HEALTHY' && x['OUTLIER CHECK'] === 'OK' && x['CLUSTER'] === 'outbound|9080|v1|reviews.default.svc.cluster.local'));
    const addresses = rows.map((x) => x['ENDPOINT']!);
    assert.deepEqual(addresses, [...addresses].sort());
    const v2 = table((await pc('endpoints', '--cluster', 'outbound|9080|v2|reviews.default.svc.cluster.local')).stdout, ENDPOINTS);
    assert.deepEqual(v2.map((x) => x['ENDPOINT']), ['10.244.0.12:9080']);
  });

  test('secret: the workload certificate and the mesh root, with their serial numbers and dates', async () => {
    const rows = table((await pc('secret')).stdout, SECRETS);
    assert.deepEqual(rows.map((x) => [x['RESOURCE NAME'], x['TYPE'], x['STATUS'], x['VALID CERT']]), [['default', 'Cert Chain', 'ACTIVE', 'true'], ['ROOTCA', 'CA', 'ACTIVE', 'true']]);
    const certs = JSON.parse((await proxy.admin('/certs')).body) as { certificates: { cert_chain: { serial_number: string }[] }[] };
    const leafSerial = certs.certificates.flatMap((c) => c.cert_chain)[0]!.serial_number.replace(/^0+/, '');
    assert.equal(rows[0]!['SERIAL NUMBER']!.replace(/^0+/, ''), leafSerial);
    assert.equal(rows[0]!['SERIAL NUMBER']!.length, 32);
    for (const x of rows) assert.ok(Date.parse(x['NOT BEFORE']!) < Date.now() && Date.now() < Date.parse(x['NOT AFTER']!), JSON.stringify(x));
  });

  test('log: lists the loggers; --level changes one, a bare level all, -r resets; bad names exit 2', async () => {
    const before_ = await pc('log');
    assert.equal(before_.code, 0);
    assert.match(before_.stdout, /^127\.0\.0\.1:\d+:\nactive loggers:\n/);
    assert.match(before_.stdout, /^ {2}xds: warning$/m);
    const set = await run(['proxy-config', 'log', 'productpage-v1', '--admin', admin, '--level', 'xds:debug,cluster=error']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^productpage-v1:\n/);
    assert.match(set.stdout, /^ {2}xds: debug$/m);
    assert.match(set.stdout, /^ {2}cluster: error$/m);
    assert.match((await pc('log')).stdout, /^ {2}xds: debug$/m, 'the change stays');
    const all = await pc('log', '--level', 'warning');
    assert.doesNotMatch(all.stdout, /: (debug|error|info)$/m);
    assert.match((await pc('log', '-r')).stdout, /^ {2}xds: info$/m);
    for (const [spec, why] of [['nosuch:debug', /unrecognized logger name: nosuch/], ['xds:loud', /unrecognized logging level: loud/]] as const) {
      const bad = await pc('log', '--level', spec);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, why);
    }
  });

  test('bootstrap (JSON by default): the node and the ADS server; all: every section named by type', async () => {
    const b = JSON.parse((await pc('bootstrap')).stdout) as { bootstrap: { node: { id: string }; dynamicResources: { adsConfig: { apiType: string } }; staticResources: { clusters: { loadAssignment: { endpoints: { lbEndpoints: { endpoint: { address: { socketAddress: { portValue: number } } } }[] }[] } }[] } } };
    assert.equal(b.bootstrap.node.id, 'sidecar~10.244.0.10~productpage-v1.default~default.svc.cluster.local');
    assert.equal(b.bootstrap.dynamicResources.adsConfig.apiType, 'DELTA_GRPC');
    assert.equal(b.bootstrap.staticResources.clusters[0]!.loadAssignment.endpoints[0]!.lbEndpoints[0]!.endpoint.address.socketAddress.portValue, Number(cpl.xds.split(':')[1]));
    const all = (await pc('all')).stdout;
    for (const needle of ['Proxy Version:', 'cluster/outbound|9080|v1|reviews.default.svc.cluster.local', 'listener/virtualOutbound', 'route/9080', 'secret/ROOTCA', 'endpoint/10.244.0.13:9080']) {
      assert.ok(all.includes(needle), `${needle} in:\n${all}`);
    }
  });

  test('--file: a saved config dump reads as the live proxy', async () => {
    const file = join(cpl.dir, 'dump.json');
    await writeFile(file, (await proxy.admin('/config_dump')).body);
    const live = await pc('clusters');
    const saved = await run(['proxy-config', 'clusters', '--file', file]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(saved.stdout, live.stdout);
  });

  test('errors: an admin address that does not answer, no POD at all, a bad flag value', async () => {
    const down = await run(['proxy-config', 'clusters', '--admin', '127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the proxy admin API of 127\.0\.0\.1:1 at 127\.0\.0\.1:1\/config_dump \(ECONNREFUSED\)/);
    const none = await run(['proxy-config', 'clusters']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name a POD, or give --admin HOST:PORT or --file/);
    assert.equal((await pc('clusters', '--direction', 'sideways')).code, 2);
    assert.equal((await pc('clusters', '-o', 'xml')).code, 2);
  });
});
