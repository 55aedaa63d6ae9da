/**
 * A snapshot with a dangling reference is never published (issue 16): a
 * real ControlPlane (directory source on a temp dir, gRPC on 127.0.0.1)
 * whose route translator can be made to route to a cluster that does not
 * exist, and a real grpc-js ADS client. While the translator is faulty a
 * config change is refused — no response, trellis_inconsistent_snapshots
 * counts it, a new proxy still gets the last good config — and the next good
 * change publishes everything, the refused change included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ControlPlane } from '../../../src/controlplane/control-plane.js';
import { DirectorySource } from '../../../src/controlplane/sources/directory-source.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import type { RouteBuilders } from '../../../src/controlplane/translate/generator-impl.js';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import type { DiscoveryResponse } from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { TestAdsClient, namesOf, type SotwStream } from '../../helpers/ads-client.js';
import { eventually } from '../proxy/harness.js';

const service = (name: string, ip: string) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  clusterIP: ${ip}
  selector: {app: ${name}}
  ports: [{name: http, port: 9080}]
`;

const node = (pod: string) => `sidecar~127.0.0.9~${pod}.default~default.svc.cluster.local`;

/** The real route translator, plus (while `broken`) a virtual host routing to a cluster nobody defines. */
let broken = false;
const faultyRoutes: RouteBuilders = {
  ...routeBuilders,
  outbound: (scope, port) => {
    const rc = routeBuilders.outbound(scope, port);
    if (!broken) return rc;
    const dangling = { name: 'broken', domains: ['broken.test'], routes: [{ action: { case: 'route' as const, value: { clusterSpecifier: { case: 'cluster' as const, value: 'no-such-cluster' } } } }] };
    return create(RouteConfigurationSchema, { name: rc.name, validateClusters: false, virtualHosts: [dangling, ...rc.virtualHosts] });
  },
};

const vhosts = (res: DiscoveryResponse) => res.resources.flatMap((a) => anyUnpack(a, RouteConfigurationSchema)!.virtualHosts.map((v) => v.name)).sort();

/** Envoy's walk: CDS, EDS for its clusters, LDS, RDS "9080"; each ACKed. Returns the RDS response. */
async function sync(s: SotwStream): Promise<DiscoveryResponse> {
  s.request(TypeUrl.Cluster);
  const cds = await s.next(5000);
  s.ack(cds);
  const eds = namesOf(cds).filter((n) => n.startsWith('outbound|'));
  s.request(TypeUrl.ClusterLoadAssignment, eds);
  s.ack(await s.next(5000), eds);
  s.request(TypeUrl.Listener);
  s.ack(await s.next(5000));
  s.request(TypeUrl.RouteConfiguration, ['9080']);
  const rds = await s.next(5000);
  s.ack(rds, ['9080']);
  return rds;
}

describe('the control plane publishes only consistent snapshots', () => {
  let dir: string;
  let cp: ControlPlane;
  let ads: TestAdsClient;
  let metricsUrl: string;

  // A counter never incremented has no sample yet: 0.
  const inconsistent = async () => Number(/^trellis_inconsistent_snapshots (\d+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-snapshot-'));
    await writeFile(join(dir, 'reviews.yaml'), service('reviews', '10.96.0.20'));
    cp = new ControlPlane({
      source: new DirectorySource(dir, { pollMs: 60_000 }),
      bind: '127.0.0.1', xdsPort: 0, debugPort: 0, trustDomain: 'cluster.local', debounceMs: 20, routeBuilders: faultyRoutes,
    });
    const ports = await cp.start();
    metricsUrl = `http://127.0.0.1:${ports.debugPort}/metrics`;
    ads = new TestAdsClient(ports.xdsPort);
  });

  after(async () => {
    broken = false;
    ads?.close();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a change translated with a dangling cluster is refused; the next good change is published', async () => {
    const s = ads.sotw(node('sleep'));
    assert.deepEqual(vhosts(await sync(s)), ['allow_any', 'reviews.default.svc.cluster.local:9080']);
    assert.equal(await inconsistent(), 0);

    broken = true;
    await writeFile(join(dir, 'details.yaml'), service('details', '10.96.0.21'));
    await eventually(async () => (await inconsistent()) === 1, 5000, 'the refused snapshot counted');
    // The refusal is decided in the same tick as a push would have been sent.
    assert.ok(await s.quiet(200), 'nothing was pushed');

    // A proxy connecting now is served the last good snapshot.
    const late = ads.sotw(node('late'));
    assert.deepEqual(vhosts(await sync(late)), ['allow_any', 'reviews.default.svc.cluster.local:9080']);

    broken = false;
    await writeFile(join(dir, 'productpage.yaml'), service('productpage', '10.96.0.22'));
    const want = ['allow_any', 'details.default.svc.cluster.local:9080', 'productpage.default.svc.cluster.local:9080', 'reviews.default.svc.cluster.local:9080'];
    const types: string[] = [];
    for (;;) {
      const res = await s.next(5000);
      types.push(res.typeUrl);
      s.ack(res, res.typeUrl === TypeUrl.RouteConfiguration ? ['9080'] : res.typeUrl === TypeUrl.ClusterLoadAssignment ? namesOf(res) : []);
      if (res.typeUrl !== TypeUrl.RouteConfiguration) continue;
      assert.deepEqual(vhosts(res), want);
      break;
    }
    assert.ok(types.includes(TypeUrl.Cluster), 'the new clusters came first');
    assert.equal(await inconsistent(), 1);
  });
});

