/**
 * The real `trellis controlplane` serving Istio security to a raw ADS
 * client: a STRICT workload's virtualInbound has no plaintext chain (and
 * gets one back when the policy turns PERMISSIVE, without a restart), its
 * HTTP chains carry the AuthorizationPolicy's RBAC filter, a client's
 * cluster does auto mTLS per endpoint, and what Trellis does not implement
 * (CUSTOM) is reported. The mesh-wide policy lives in a root namespace
 * given by --root-namespace.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema, type Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { DownstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { DiscoveryResponse } from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { TestAdsClient, type SotwStream } from '../../helpers/ads-client.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const workloads = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.5.1
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: tcp-raw, port: 9000}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web, security.istio.io/tlsMode: istio}}
spec: {serviceAccountName: web}
status: {podIP: 10.5.0.1, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: legacy-1, namespace: shop, labels: {app: web}}
spec: {serviceAccountName: legacy}
status: {podIP: 10.5.0.2, phase: Running}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: shop-only, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  rules: [{from: [{source: {namespaces: [shop]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: shop}
spec:
  action: CUSTOM
  provider: {name: opa}
  rules: [{to: [{operation: {paths: [/ext]}}]}]
`;

const meshPolicy = (mode: string) => `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: mesh-root}
spec: {mtls: {mode: ${mode}}}
`;

const node = (ip: string, pod: string) => `sidecar~${ip}~${pod}.shop~shop.svc.cluster.local`;

interface Problem {
  code: string;
  file: string;
  line: number;
  reason: string;
}

function virtualInbound(res: DiscoveryResponse): Listener {
  const all = res.resources.map((r) => anyUnpack(r, ListenerSchema)!);
  return all.find((l) => l.name === 'virtualInbound')!;
}

/** The workload's chains: all but the blackhole, which only guards 15006 itself. */
const served = (l: Listener) => l.filterChains.filter((c) => c.name !== 'virtualInbound-blackhole');

describe('trellis controlplane: mTLS and authorization over ADS', () => {
  let dir: string;
  let cp: TrellisProcess;
  let ads: TestAdsClient;
  let debug: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-mtls-'));
    await writeFile(join(dir, 'workloads.yaml'), workloads);
    await writeFile(join(dir, 'mesh.yaml'), meshPolicy('STRICT'));
    cp = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0', '--debounce-ms', '20', '--root-namespace', 'mesh-root']);
    const ready = jsonLine<{ xds: string; debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
    debug = `http://${ready.debug}`;
    ads = new TestAdsClient(Number(ready.xds.split(':')[1]));
  });

  after(async () => {
    ads?.close();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let lds: SotwStream;

  test('STRICT (mesh-wide, in the --root-namespace): every chain of the workload terminates mTLS; none is plaintext', async () => {
    lds = ads.sotw(node('10.5.0.1', 'web-1'));
    lds.request(TypeUrl.Listener);
    const res = await lds.next(5000);
    lds.ack(res);
    const chains = served(virtualInbound(res));
    assert.ok(chains.length >= 4, chains.map((c) => c.name).join(' '));
    for (const c of chains) {
      assert.equal(c.filterChainMatch?.transportProtocol, 'tls', c.name);
      const ctx = anyUnpack(c.transportSocket!.configType.value as never, DownstreamTlsContextSchema)!;
      assert.equal(ctx.requireClientCertificate, true, c.name);
      const cert = ctx.commonTlsContext!.tlsCertificateSdsSecretConfigs[0]!;
      assert.equal(cert.name, 'default');
      const src = cert.sdsConfig!.configSourceSpecifier;
      const target = src.case === 'apiConfigSource' ? src.value.grpcServices[0]!.targetSpecifier : undefined;
      assert.equal(target?.case === 'envoyGrpc' && target.value.clusterName, 'sds-grpc', 'from the local agent, not the control plane');
    }
    assert.ok(!chains.some((c) => c.filterChainMatch?.transportProtocol === 'raw_buffer'));
  });

  test('the HTTP chain enforces the AuthorizationPolicy: CUSTOM as DENY, then ALLOW, before the router', async () => {
    const s = ads.sotw(node('10.5.0.1', 'web-1'));
    s.request(TypeUrl.Listener);
    const http = served(virtualInbound(await s.next(5000))).find((c) => c.name === '0.0.0.0_8080')!;
    const hcm = anyUnpack(http.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
    assert.deepEqual(hcm.httpFilters.map((f) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.rbac', 'envoy.filters.http.router']);
  });

  test('a client sidecar: auto mTLS per endpoint (transport_socket_matches), tlsMode metadata only on the endpoint with a sidecar', async () => {
    const s = ads.sotw(node('10.9.0.9', 'client'));
    s.request(TypeUrl.Cluster);
    const cds = await s.next(5000);
    const web = cds.resources.map((r) => anyUnpack(r, ClusterSchema)!).find((c) => c.name === 'outbound|80||web.shop.svc.cluster.local')!;
    assert.deepEqual(web.transportSocketMatches.map((m) => [m.name, m.match]), [['tlsMode-istio', { tlsMode: 'istio' }], ['tlsMode-disabled', {}]]);
    s.ack(cds);
    s.request(TypeUrl.ClusterLoadAssignment, ['outbound|80||web.shop.svc.cluster.local']);
    const eds = await s.next(5000);
    const cla = anyUnpack(eds.resources[0]!, ClusterLoadAssignmentSchema)!;
    assert.deepEqual(cla.endpoints.flatMap((l) => l.lbEndpoints).map((e) => e.metadata?.filterMetadata['envoy.transport_socket_match']), [{ tlsMode: 'istio' }, undefined]);
  });

  test('CUSTOM is reported at /debug/config_problems, the rest keeps serving', async () => {
    const problems = (await (await fetch(`${debug}/debug/config_problems`)).json()) as Problem[];
    const custom = problems.find((p) => p.code === 'CONFIG_UNSUPPORTED' && p.reason.includes('CUSTOM'));
    assert.ok(custom, JSON.stringify(problems));
    assert.equal(custom.file, 'workloads.yaml');
  });

  test('PERMISSIVE, live: the next push brings plaintext chains beside the mTLS ones', async () => {
    await writeFile(join(dir, 'mesh.yaml'), meshPolicy('PERMISSIVE'));
    const res = await lds.next(10_000);
    const chains = served(virtualInbound(res));
    const port8080 = chains.filter((c) => c.filterChainMatch?.destinationPort === 8080).map((c) => [c.filterChainMatch?.transportProtocol, c.transportSocket !== undefined]);
    assert.deepEqual(port8080, [['tls', true], ['raw_buffer', false]]);
    lds.ack(res);
  });
});
