/**
 * The real `trellis controlplane` serving a waypoint: a Delta ADS client
 * with the node id of the waypoint Gateway's pod (waypoint~…, its pod's
 * gateway-name label) gets connect_terminate / main_internal /
 * connect_originate, the inbound-vip clusters and their endpoints through
 * connect_originate; a VirtualService change reaches it incrementally; the
 * node proxy's Address for the service names the waypoint; a use-waypoint
 * naming no Gateway is still sent and reported in /debug/config_problems.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { DeltaDiscoveryResponse } from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { AddressSchema } from '../../../src/gen/workloadapi/workload_pb.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { TestAdsClient, type DeltaStream } from '../../helpers/ads-client.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';
import { waypointMesh, waypointNodeId } from '../../unit/waypoint/fixture.js';

const HOST = 'reviews.shop.svc.cluster.local';
const names = (r: DeltaDiscoveryResponse) => r.resources.map((x) => x.name).sort();

describe('trellis controlplane: a waypoint proxy over Delta ADS', () => {
  let dir: string;
  let cp: TrellisProcess;
  let ads: TestAdsClient;
  let debug: string;
  let wp: DeltaStream;

  async function next(s: DeltaStream, type: string): Promise<DeltaDiscoveryResponse> {
    const r = await s.next(5000);
    assert.equal(r.typeUrl, type, `expected a ${type} response`);
    s.ack(r);
    return r;
  }

  function split(r: DeltaDiscoveryResponse): string[] {
    const l = anyUnpack(r.resources.find((x) => x.name === 'main_internal')!.resource!, ListenerSchema)!;
    const chain = l.filterChains.find((c) => c.name === `inbound-vip|9080|http|${HOST}`)!;
    const hcm = anyUnpack(chain.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
    const rc = hcm.routeSpecifier.case === 'routeConfig' ? hcm.routeSpecifier.value : undefined;
    const action = rc!.virtualHosts[0]!.routes.at(-1)!.action;
    const spec = action.case === 'route' ? action.value.clusterSpecifier : undefined;
    return spec?.case === 'weightedClusters' ? spec.value.clusters.map((c) => `${c.name}=${c.weight}`) : [String(spec?.value)];
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-waypoint-'));
    await writeFile(join(dir, 'mesh.yaml'), waypointMesh);
    cp = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0', '--debounce-ms', '20']);
    const ready = jsonLine<{ xds: string; debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
    debug = `http://${ready.debug}`;
    ads = new TestAdsClient(Number(ready.xds.split(':')[1]));
    wp = ads.delta(waypointNodeId);
  });

  after(async () => {
    ads?.close();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('CDS, EDS and LDS of the waypoint: HBONE in and out, the inbound-vip clusters, endpoints through connect_originate', async () => {
    wp.request(TypeUrl.Cluster);
    const cds = names(await next(wp, TypeUrl.Cluster));
    for (const n of ['main_internal', 'connect_originate', `inbound-vip|9080|http|${HOST}`, `inbound-vip|9080|http/v1|${HOST}`, `inbound-vip|5432|tcp|${HOST}`]) assert.ok(cds.includes(n), `${n} in ${cds.join(' ')}`);
    wp.request(TypeUrl.ClusterLoadAssignment, { resourceNamesSubscribe: [`inbound-vip|9080|http/v2|${HOST}`] });
    const eds = await next(wp, TypeUrl.ClusterLoadAssignment);
    const cla = anyUnpack(eds.resources[0]!.resource!, ClusterLoadAssignmentSchema)!;
    const ep = cla.endpoints[0]!.lbEndpoints[0]!;
    const addr = ep.hostIdentifier.case === 'endpoint' ? ep.hostIdentifier.value.address?.address : undefined;
    assert.equal(addr?.case, 'envoyInternalAddress');
    assert.deepEqual(addr?.case === 'envoyInternalAddress' && [addr.value.addressNameSpecifier.value, addr.value.endpointId], ['connect_originate', '10.1.0.6:9080']);
    wp.request(TypeUrl.Listener);
    const lds = await next(wp, TypeUrl.Listener);
    assert.deepEqual(names(lds), ['connect_originate', 'connect_terminate', 'main_internal']);
    assert.deepEqual(split(lds), [`inbound-vip|9080|http/v1|${HOST}=90`, `inbound-vip|9080|http/v2|${HOST}=10`]);
    // config_dump prints every typed config it sent (the new types are in the registry).
    const dump = await fetch(`${debug}/debug/config_dump?proxyID=wp-1.shop`);
    assert.equal(dump.status, 200);
    const text = await dump.text();
    for (const t of ['set_filter_state.v3.Config', 'internal_upstream.v3.InternalUpstreamTransport', '%DOWNSTREAM_LOCAL_ADDRESS%']) assert.ok(text.includes(t), t);
  });

  test('a VirtualService change re-sends main_internal only', async () => {
    await writeFile(join(dir, 'mesh.yaml'), waypointMesh.replace('weight: 90', 'weight: 50').replace('weight: 10', 'weight: 50'));
    let lds: DeltaDiscoveryResponse | undefined;
    // CDS/EDS may be pushed too (their versions are unchanged, so they are not): wait for the listener.
    for (let i = 0; i < 5 && !lds; i++) {
      const r = await wp.next(5000);
      wp.ack(r);
      if (r.typeUrl === TypeUrl.Listener) lds = r;
    }
    assert.ok(lds, 'an LDS response');
    assert.deepEqual(names(lds), ['main_internal']);
    assert.deepEqual(split(lds), [`inbound-vip|9080|http/v1|${HOST}=50`, `inbound-vip|9080|http/v2|${HOST}=50`]);
  });

  test('the node proxy is told reviews goes through the waypoint; a use-waypoint naming no Gateway is sent and reported', async () => {
    await writeFile(join(dir, 'ghost.yaml'), `
apiVersion: v1
kind: Service
metadata: {name: ghosted, namespace: shop, labels: {istio.io/use-waypoint: ghost}}
spec: {clusterIP: 10.96.5.7, selector: {app: ghosted}, ports: [{name: http, port: 80}]}
`);
    const zt = ads.delta('ztunnel~127.0.0.1~ztunnel-node1.istio-system~istio-system.svc.cluster.local');
    const seen = new Map<string, unknown>();
    zt.request(TypeUrl.Address);
    // The first answer may come before the new file is read: the incremental one follows.
    for (let i = 0; i < 3 && !seen.has('shop/ghosted.shop.svc.cluster.local'); i++) {
      const r = await zt.next(5000);
      zt.ack(r);
      for (const x of r.resources) seen.set(x.name, anyUnpack(x.resource!, AddressSchema));
    }
    const waypointOf = (n: string) => {
      const a = seen.get(n) as { type: { case: string; value: { waypoint?: { destination: { value: { hostname: string } } } } } } | undefined;
      return a?.type.value.waypoint?.destination.value.hostname;
    };
    assert.equal(waypointOf(`shop/${HOST}`), 'wp.shop.svc.cluster.local');
    assert.equal(waypointOf('shop/ghosted.shop.svc.cluster.local'), 'ghost.shop.svc.cluster.local', 'fail closed: still referenced');
    const problems = (await (await fetch(`${debug}/debug/config_problems`)).json()) as { code: string; file: string; reason: string }[];
    const p = problems.find((x) => x.reason.includes('ghost'));
    assert.ok(p, JSON.stringify(problems));
    assert.equal(p.code, 'IST0101');
    assert.equal(p.file, 'ghost.yaml');
  });
});
