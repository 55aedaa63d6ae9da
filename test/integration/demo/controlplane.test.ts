/**
 * The real `trellis controlplane --config-dir examples/demo`: the problems it
 * reports are only the Deployments' unknown kind (until Deployments are
 * accepted; `trellis up` supplies the pods), and a sidecar of the demo
 * namespace is sent what the demo's Istio config says — reviews' subsets as
 * clusters, the jason route before the 90/10 split, ratings' timeout and
 * retries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import type { RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { TestAdsClient, namesOf, nodeId } from '../../helpers/ads-client.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const demoDir = fileURLToPath(new URL('../../../../examples/demo/', import.meta.url));
const UNKNOWN_DEPLOYMENT = /^unknown kind Deployment \(apiVersion apps\/v1\)$/;
const svc = (name: string) => `${name}.demo.svc.cluster.local`;

describe('trellis controlplane on examples/demo', () => {
  let cp: TrellisProcess;
  let ads: TestAdsClient;
  let debug: string;

  before(async () => {
    cp = new TrellisProcess(['controlplane', '--config-dir', demoDir, '--xds-port', '0', '--debug-port', '0']);
    const ready = jsonLine<{ xds: string; debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
    debug = `http://${ready.debug}`;
    ads = new TestAdsClient(Number(ready.xds.split(':')[1]));
  });

  after(async () => {
    ads?.close();
    await cp?.stop();
  });

  test('/debug/config_problems: one "unknown kind" per Deployment (8), nothing else — no analysis finding', async () => {
    const problems = (await (await fetch(`${debug}/debug/config_problems`)).json()) as { code: string; file: string; reason: string }[];
    const others = problems.filter((p) => !UNKNOWN_DEPLOYMENT.test(p.reason));
    assert.deepEqual(others, []);
    // 0 once the loader accepts Deployments; until then exactly the demo's eight.
    assert.ok(problems.length === 0 || problems.length === 8, JSON.stringify(problems));
    assert.match(await (await fetch(`${debug}/metrics`)).text(), new RegExp(`^trellis_config_problems ${problems.length}$`, 'm'));
  });

  test('a sidecar in demo gets a cluster per reviews subset and one per service', async () => {
    const s = ads.sotw(nodeId('productpage-v1-0', 'demo'));
    s.request(TypeUrl.Cluster);
    const names = namesOf(await s.next(5000));
    for (const name of [
      `outbound|9080|v1|${svc('reviews')}`, `outbound|9080|v2|${svc('reviews')}`, `outbound|9080|v3|${svc('reviews')}`,
      `outbound|9080||${svc('reviews')}`, `outbound|9080||${svc('ratings')}`, `outbound|9080||${svc('details')}`, `outbound|9080||${svc('productpage')}`,
    ]) assert.ok(names.includes(name), `${name} not in ${names.join(', ')}`);
    s.close();
  });

  test('route 9080: jason to v3 first, then 90/10 between v1 and v2; ratings with a 2 s timeout and 3 retries of 500 ms', async () => {
    const s = ads.sotw(nodeId('productpage-v1-0', 'demo'));
    s.request(TypeUrl.RouteConfiguration, ['9080']);
    const res = await s.next(5000);
    const rc = anyUnpack(res.resources[0]!, xdsRegistry) as RouteConfiguration;
    const vhost = (name: string) => {
      const v = rc.virtualHosts.find((h) => h.name === `${svc(name)}:9080`);
      assert.ok(v, `no virtual host for ${name}: ${rc.virtualHosts.map((h) => h.name).join(', ')}`);
      return v;
    };

    const [jason, canary] = vhost('reviews').routes;
    const header = jason!.match!.headers[0]!;
    assert.equal(header.name, 'end-user');
    assert.deepEqual(header.headerMatchSpecifier.case === 'stringMatch' ? header.headerMatchSpecifier.value.matchPattern : undefined, { case: 'exact', value: 'jason' });
    assert.equal(jason!.action.case === 'route' ? jason!.action.value.clusterSpecifier.value : undefined, `outbound|9080|v3|${svc('reviews')}`);
    const weighted = canary!.action.case === 'route' && canary!.action.value.clusterSpecifier.case === 'weightedClusters' ? canary!.action.value.clusterSpecifier.value.clusters : [];
    assert.deepEqual(weighted.map((c) => [c.name, c.weight]), [[`outbound|9080|v1|${svc('reviews')}`, 90], [`outbound|9080|v2|${svc('reviews')}`, 10]]);

    const ratings = vhost('ratings').routes[0]!;
    assert.equal(ratings.action.case, 'route');
    const action = ratings.action.value as Extract<typeof ratings.action, { case: 'route' }>['value'];
    assert.equal(Number(action.timeout?.seconds), 2);
    assert.equal(action.retryPolicy?.numRetries, 3);
    assert.equal(action.retryPolicy?.perTryTimeout?.nanos, 500_000_000);
    assert.equal(action.retryPolicy?.retryOn, 'unavailable,cancelled,connect-failure,refused-stream,gateway-error');
    s.close();
  });
});
