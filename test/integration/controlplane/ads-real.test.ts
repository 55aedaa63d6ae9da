/**
 * The real `trellis controlplane` binary over raw ADS streams: Delta
 * subscriptions and removals, SotW NACK visible in /debug/syncz and /metrics,
 * named "HOST:PORT" listeners for any client, and bad YAML that is reported
 * with file and line while the rest of the config keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { TestAdsClient, namesOf, nameOfAny } from '../../helpers/ads-client.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const exampleDir = fileURLToPath(new URL('../../../../examples/grpc-split/', import.meta.url));
const host = 'greeter.default.svc.cluster.local';
const node = (pod: string) => `sidecar~127.0.0.9~${pod}.default~default.svc.cluster.local`;

interface SyncEntry {
  proxy: string;
  nodeId: string;
  types: Record<string, { status: string; nack?: { error: string } }>;
}
interface Problem {
  code: string;
  file: string;
  line: number;
  reason: string;
}

describe('trellis controlplane over raw ADS streams', () => {
  let dir: string;
  let cpProc: TrellisProcess;
  let ads: TestAdsClient;
  let debug: string;

  const get = async <T>(path: string): Promise<T> => (await (await fetch(debug + path)).json()) as T;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-ads-'));
    await cp(exampleDir, dir, { recursive: true });
    cpProc = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0']);
    const ready = jsonLine<{ xds: string; debug: string }>(await cpProc.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
    debug = `http://${ready.debug}`;
    ads = new TestAdsClient(Number(ready.xds.split(':')[1]));
  });

  after(async () => {
    ads?.close();
    await cpProc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('Delta: wildcard CDS, named EDS, then removed_resources when a subset goes away', async () => {
    const s = ads.delta(node('delta-client'));
    s.request(TypeUrl.Cluster);
    const cds = await s.next(5000);
    const clusters = cds.resources.map((r) => r.name);
    for (const subset of ['', 'v1', 'v2']) assert.ok(clusters.includes(`outbound|50051|${subset}|${host}`), clusters.join(' '));
    s.ack(cds);

    const v1 = `outbound|50051|v1|${host}`;
    s.request(TypeUrl.ClusterLoadAssignment, { resourceNamesSubscribe: [v1] });
    const eds = await s.next(5000);
    assert.deepEqual(eds.resources.map((r) => r.name), [v1]);
    const cla = anyUnpack(eds.resources[0]!.resource!, ClusterLoadAssignmentSchema)!;
    const addrs = cla.endpoints.flatMap((l) => l.lbEndpoints.map((e) => e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address.case === 'socketAddress' && e.hostIdentifier.value.address.address.value.address : ''));
    assert.deepEqual(addrs, ['127.0.0.2'], 'subset v1 is the pod labelled version: v1');
    s.ack(eds);

    await eventually(async () => {
      const me = (await get<SyncEntry[]>('/debug/syncz')).find((p) => p.nodeId === node('delta-client'));
      assert.equal(me?.types.CDS?.status, 'SYNCED');
      assert.equal(me?.types.EDS?.status, 'SYNCED');
    });

    // Remove subset v2 from the DestinationRule: the next CDS response removes its cluster.
    const file = join(dir, 'routing.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/    - name: v2\n      labels:\n        version: v2\n/, ''));
    const push = await s.next(5000);
    assert.equal(push.typeUrl, TypeUrl.Cluster);
    assert.ok(push.removedResources.includes(`outbound|50051|v2|${host}`), `removed: ${push.removedResources.join(' ')}`);
    assert.ok(!push.resources.some((r) => r.name === v1), 'unchanged clusters are not re-sent');
    s.ack(push);
    await writeFile(file, text);
    s.ack(await s.next(5000));
  });

  test('a pod going unready is an endpoint push: only its service\'s ClusterLoadAssignment is sent, on Delta and on SotW', async () => {
    const s = ads.delta(node('eds-client'));
    s.request(TypeUrl.Cluster);
    s.ack(await s.next(5000));
    const v1 = `outbound|50051|v1|${host}`;
    const v2 = `outbound|50051|v2|${host}`;
    s.request(TypeUrl.ClusterLoadAssignment, { resourceNamesSubscribe: [v1, v2] });
    s.ack(await s.next(5000));
    const sotw = ads.sotw(node('sotw-eds-client'));
    sotw.request(TypeUrl.ClusterLoadAssignment, [v1, v2]);
    const full = await sotw.next(5000);
    assert.deepEqual(full.resources.map(nameOfAny).sort(), [v1, v2], 'a request is answered with the whole set');
    sotw.ack(full, [v1, v2]);
    const counter = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const before = await (await fetch(`${debug}/metrics`)).text();

    const file = join(dir, 'greeter.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/(podIP: 127\.0\.0\.2\n  conditions:\n    - type: Ready\n      status:) "True"/, '$1 "False"'));
    const push = await s.next(5000);
    assert.equal(push.typeUrl, TypeUrl.ClusterLoadAssignment);
    assert.deepEqual(push.resources.map((r) => r.name), [v1], 'only the changed assignment (v2 did not change)');
    const left = anyUnpack(push.resources[0]!.resource!, ClusterLoadAssignmentSchema)!.endpoints.flatMap((l) => l.lbEndpoints);
    assert.deepEqual(left, [], 'the unready endpoint is no longer sent');
    s.ack(push);
    const sotwPush = await sotw.next(5000);
    assert.deepEqual(sotwPush.resources.map(nameOfAny), [v1], 'SotW EDS pushes only what changed: v2 is kept by the client');
    assert.notEqual(sotwPush.versionInfo, full.versionInfo);
    sotw.ack(sotwPush, [v1, v2]);
    const now = await (await fetch(`${debug}/metrics`)).text();
    assert.equal(counter(now, 'pilot_push_triggers\\{type="endpoint"\\}'), counter(before, 'pilot_push_triggers\\{type="endpoint"\\}') + 1, 'translated as an endpoint push');
    assert.equal(counter(now, 'pilot_xds_pushes\\{type="cds"\\}'), counter(before, 'pilot_xds_pushes\\{type="cds"\\}'), 'no CDS response to anyone');
    await writeFile(file, text);
    s.ack(await s.next(5000));
    sotw.close();
  });

  test('SotW NACK: STALE with the error in /debug/syncz, counted in /metrics, not re-sent', async () => {
    const s = ads.sotw(node('nack-client'));
    s.request(TypeUrl.Listener);
    const lds = await s.next(5000);
    assert.ok(namesOf(lds).includes('virtualOutbound'), namesOf(lds).join(' '));
    s.nack(lds, 'listener virtualOutbound: invalid filter chain (test)');
    assert.ok(await s.quiet(400), 'a NACKed version is not sent again');
    await eventually(async () => {
      const me = (await get<SyncEntry[]>('/debug/syncz')).find((p) => p.nodeId === node('nack-client'));
      assert.equal(me?.types.LDS?.status, 'STALE');
      assert.match(me?.types.LDS?.nack?.error ?? '', /invalid filter chain \(test\)/);
    });
    const metrics = await (await fetch(`${debug}/metrics`)).text();
    assert.match(metrics, /^pilot_total_xds_rejects\{type="lds"\} 1$/m);
    assert.match(metrics, /^pilot_xds [1-9]/m);
  });

  test('a non-gRPC client asking for a "HOST:PORT" listener gets an API listener and its route', async () => {
    const s = ads.sotw(node('named-client'));
    const name = `${host}:50051`;
    s.request(TypeUrl.Listener, [name]);
    const lds = await s.next(5000);
    assert.deepEqual(namesOf(lds), [name]);
    s.ack(lds, [name]);
    s.request(TypeUrl.RouteConfiguration, [name]);
    const rds = await s.next(5000);
    assert.deepEqual(rds.resources.map(nameOfAny), [name]);
  });

  test('bad YAML is reported with file, line and reason; the rest keeps serving', async () => {
    await writeFile(
      join(dir, 'broken.yaml'),
      ['apiVersion: networking.istio.io/v1', 'kind: DestinationRule', 'metadata:', '  name: other', 'spec:', '  host: other.default.svc.cluster.local', '  subsets:', '    - name: v1', '      lables:', '        version: v1', ''].join('\n'),
    );
    await writeFile(join(dir, 'syntax.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: [unclosed\n');
    await writeFile(join(dir, 'dup.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: greeter\n  namespace: default\n');
    await eventually(async () => {
      const problems = await get<Problem[]>('/debug/config_problems');
      const unknown = problems.find((p) => p.file === 'broken.yaml');
      assert.ok(unknown, JSON.stringify(problems));
      assert.equal(unknown.line, 9);
      assert.match(unknown.reason, /subsets\[0\]\.lables: unknown field/);
      assert.ok(problems.some((p) => p.file === 'syntax.yaml' && p.code === 'CONFIG_PARSE' && p.line >= 3));
      assert.ok(problems.some((p) => p.file === 'greeter.yaml' || p.file === 'dup.yaml' ? p.code === 'CONFIG_CONFLICT' : false));
    });
    const s = ads.sotw(node('after-bad-yaml'));
    s.request(TypeUrl.Cluster);
    const cds = await s.next(5000);
    assert.ok(namesOf(cds).includes(`outbound|50051|v1|${host}`));
    assert.equal(cpProc.child.exitCode, null, 'still running');
    const ready = await fetch(`${debug}/ready`);
    assert.equal(ready.status, 200);
  });
});

/** Retries an async assertion every 50 ms for up to `ms`. */
async function eventually(check: () => Promise<void>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
