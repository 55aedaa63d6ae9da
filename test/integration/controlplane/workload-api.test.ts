/**
 * The real `trellis controlplane` serving Istio's workload API to a Delta
 * xDS client shaped like ztunnel (node type ztunnel, empty first
 * subscriptions = wildcard): the ambient workloads and services of a config
 * directory as Address resources, the L4 Authorization, then incremental
 * responses as pods come and go and as the namespace leaves ambient mode;
 * SotW for these types is refused; an ALLOW policy with HTTP fields is
 * reported in /debug/config_problems and the log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { DeltaDiscoveryResponse } from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { AddressSchema, TunnelProtocol } from '../../../src/gen/workloadapi/workload_pb.js';
import { Action, AuthorizationSchema } from '../../../src/gen/workloadapi/security/authorization_pb.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { TestAdsClient, type DeltaStream } from '../../helpers/ads-client.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';
import { eventually } from '../proxy/harness.js';

const ztunnel = 'ztunnel~127.0.0.1~ztunnel-node1.istio-system~istio-system.svc.cluster.local';
const namespace = (ambient: boolean) => `
apiVersion: v1
kind: Namespace
metadata: {name: shop${ambient ? ', labels: {istio.io/dataplane-mode: ambient}' : ''}}
`;
const pod = (name: string, ip: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: {app: web}}
spec: {serviceAccountName: web, nodeName: node1}
status: {podIP: ${ip}, phase: Running, conditions: [{type: Ready, status: "True"}]}
`;
const rest = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.7.1, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sidecar-pod, namespace: default, labels: {app: legacy}}
status: {podIP: 10.3.0.1, phase: Running}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: front-only, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  rules:
  - from: [{source: {namespaces: [front]}}]
    to: [{operation: {ports: ["8080"]}}]
  - to: [{operation: {methods: [DELETE]}}]
`;

const web1 = 'Kubernetes//Pod/shop/web-1';
const web2 = 'Kubernetes//Pod/shop/web-2';
const svc = 'shop/web.shop.svc.cluster.local';
const policy = 'shop/front-only';
const names = (r: DeltaDiscoveryResponse) => r.resources.map((x) => x.name).sort();

describe('trellis controlplane: the workload API over Delta xDS', () => {
  let dir: string;
  let cp: TrellisProcess;
  let ads: TestAdsClient;
  let debug: string;
  let stream: DeltaStream;

  /** The next response of `type`, ACKed. */
  async function next(type: string): Promise<DeltaDiscoveryResponse> {
    const r = await stream.next(5000);
    assert.equal(r.typeUrl, type, `expected a ${type} response`);
    stream.ack(r);
    return r;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-wapi-'));
    await writeFile(join(dir, 'namespace.yaml'), namespace(true));
    await writeFile(join(dir, 'web-1.yaml'), pod('web-1', '10.1.0.1'));
    await writeFile(join(dir, 'rest.yaml'), rest);
    cp = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0', '--debounce-ms', '20']);
    const ready = jsonLine<{ xds: string; debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
    debug = `http://${ready.debug}`;
    ads = new TestAdsClient(Number(ready.xds.split(':')[1]));
    stream = ads.delta(ztunnel);
  });

  after(async () => {
    ads?.close();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('wildcard Address and Authorization: the ambient workload and service, the L4 policy (its HTTP rule dropped)', async () => {
    stream.request(TypeUrl.Address);
    const addr = await next(TypeUrl.Address);
    assert.deepEqual(names(addr), [web1, svc], 'the default namespace\'s pod is not ambient');
    const w = anyUnpack(addr.resources.find((r) => r.name === web1)!.resource!, AddressSchema)!;
    assert.equal(w.type.case, 'workload');
    if (w.type.case === 'workload') {
      assert.deepEqual([...w.type.value.addresses[0]!], [10, 1, 0, 1]);
      assert.equal(w.type.value.tunnelProtocol, TunnelProtocol.HBONE);
      assert.deepEqual(w.type.value.authorizationPolicies, [policy]);
      assert.deepEqual(Object.keys(w.type.value.services), [svc]);
    }
    stream.request(TypeUrl.Authorization);
    const authz = await next(TypeUrl.Authorization);
    assert.deepEqual(names(authz), [policy]);
    const a = anyUnpack(authz.resources[0]!.resource!, AuthorizationSchema)!;
    assert.equal(a.action, Action.ALLOW);
    assert.equal(a.rules.length, 1, 'the rule with methods is dropped: the policy allows less, never more');
    await eventually(async () => {
      const syncz = (await (await fetch(`${debug}/debug/syncz`)).json()) as { nodeId: string; stream: string; types: Record<string, { status: string }> }[];
      const me = syncz.find((p) => p.nodeId === ztunnel);
      return me?.stream === 'delta' && me.types.WDS?.status === 'SYNCED' && me.types.WADS?.status === 'SYNCED';
    }, 3000, 'WDS and WADS SYNCED in /debug/syncz');
  });

  test('a pod added, then removed: Delta responses with just that workload, then its name in removed_resources', async () => {
    await writeFile(join(dir, 'web-2.yaml'), pod('web-2', '10.1.0.2'));
    const added = await next(TypeUrl.Address);
    assert.deepEqual(names(added), [web2], 'unchanged resources are not re-sent');
    assert.deepEqual(added.removedResources, []);
    await unlink(join(dir, 'web-2.yaml'));
    const removed = await next(TypeUrl.Address);
    assert.deepEqual(removed.resources, []);
    assert.deepEqual(removed.removedResources, [web2]);
  });

  test('the namespace label flipped out of ambient: its workloads, services and policies are removed', async () => {
    await writeFile(join(dir, 'namespace.yaml'), namespace(false));
    const addr = await next(TypeUrl.Address);
    assert.deepEqual(addr.removedResources.sort(), [web1, svc]);
    const authz = await next(TypeUrl.Authorization);
    assert.deepEqual(authz.removedResources, [policy]);
    await writeFile(join(dir, 'namespace.yaml'), namespace(true));
    assert.deepEqual(names(await next(TypeUrl.Address)), [web1, svc], 'and back');
    assert.deepEqual(names(await next(TypeUrl.Authorization)), [policy]);
  });

  test('SotW for the workload API is refused with INVALID_ARGUMENT naming Delta', async () => {
    const s = ads.sotw(ztunnel.replace('node1', 'sotw'));
    s.request(TypeUrl.Address);
    const st = await s.status(5000);
    assert.equal(st.code, status.INVALID_ARGUMENT);
    assert.match(st.details, /istio\.workload\.Address \(WDS\) is served over Delta xDS only \(DeltaAggregatedResources\)/);
  });

  test('the ALLOW policy with HTTP fields is reported in /debug/config_problems and logged', async () => {
    const problems = (await (await fetch(`${debug}/debug/config_problems`)).json()) as { code: string; file: string; line: number; reason: string }[];
    const p = problems.find((x) => x.reason.includes('front-only'));
    assert.ok(p, JSON.stringify(problems));
    assert.equal(p.code, 'CONFIG_UNSUPPORTED');
    assert.equal(p.file, 'rest.yaml');
    assert.ok(p.line > 1, 'at the policy\'s rules');
    assert.match(p.reason, /leaves out methods; this ALLOW policy's rules that use them are dropped, so it allows less than written/);
    await eventually(() => cp.stderr.some((l) => l.includes('leaves out methods')), 2000, 'the warning in the log');
  });
});
