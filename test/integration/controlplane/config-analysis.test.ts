/**
 * Issue 8, defect 3, through the real `trellis controlplane`: a VirtualService
 * routing to an undefined subset and to an unknown host is reported (IST0101,
 * file and line) in /debug/config_problems, /metrics and the log — once — and
 * the route is kept, pointing at a cluster CDS does not have, as istiod does.
 * pilot_k8s_cfg_events counts config events (issue 16), not those problems.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { TestAdsClient, namesOf } from '../../helpers/ads-client.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const exampleDir = fileURLToPath(new URL('../../../../examples/grpc-split/', import.meta.url));
const host = 'greeter.default.svc.cluster.local';
const node = (pod: string) => `sidecar~127.0.0.9~${pod}.default~default.svc.cluster.local`;

interface Problem {
  code: string;
  name?: string;
  severity?: string;
  file: string;
  line: number;
  reason: string;
}

describe('analysis findings in the running control plane', () => {
  let dir: string;
  let cpProc: TrellisProcess;
  let ads: TestAdsClient;
  let debug: string;
  let routing: string;

  const get = async <T>(path: string): Promise<T> => (await (await fetch(debug + path)).json()) as T;
  const findings = async () => (await get<Problem[]>('/debug/config_problems')).filter((p) => p.code === 'IST0101');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-analysis-'));
    await cp(exampleDir, dir, { recursive: true });
    // The 10 % canary goes to subset v3, which no DestinationRule defines, and a mirror to a host that does not exist.
    routing = (await readFile(join(dir, 'routing.yaml'), 'utf8')).replace('subset: v2', 'subset: v3') + '      mirror:\n        host: greeter-shadow\n';
    await writeFile(join(dir, 'routing.yaml'), routing);
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

  const lineOf = (needle: string) => routing.slice(0, routing.indexOf(needle)).split('\n').length;

  test('/debug/config_problems and /metrics report both references, with file and the line of the field', async () => {
    assert.deepEqual(
      (await findings()).map((p) => [p.name, p.severity, p.file, p.line, p.reason]),
      [
        ['ReferencedResourceNotFound', 'Error', 'routing.yaml', lineOf('subset: v3'),
          'VirtualService default/greeter: spec.http[0].route[1].destination.subset: Referenced host+subset in destinationrule not found: "greeter+v3"'],
        ['ReferencedResourceNotFound', 'Error', 'routing.yaml', lineOf('host: greeter-shadow'),
          'VirtualService default/greeter: spec.http[0].mirror.host: Referenced mirror host not found: "greeter-shadow"'],
      ],
    );
    const metrics = await (await fetch(`${debug}/metrics`)).text();
    assert.match(metrics, /^trellis_config_problems 2$/m);
    // istiod's pilot_k8s_cfg_events counts config events by kind, not problems: one add each, nothing for registry kinds.
    assert.match(metrics, /^pilot_k8s_cfg_events\{type="VirtualService",event="add"\} 1$/m);
    assert.match(metrics, /^pilot_k8s_cfg_events\{type="DestinationRule",event="add"\} 1$/m);
    assert.doesNotMatch(metrics, /^pilot_k8s_cfg_events\{type="(Pod|Service|ServiceAccount|Namespace)"/m);
  });

  test('the route is kept: RDS names the missing subset cluster, CDS does not have it', async () => {
    const s = ads.sotw(node('analysis-client'));
    s.request(TypeUrl.Cluster);
    const cds = await s.next(5000);
    assert.ok(!namesOf(cds).includes(`outbound|50051|v3|${host}`));
    assert.ok(namesOf(cds).includes(`outbound|50051|v1|${host}`));
    s.request(TypeUrl.RouteConfiguration, ['50051']);
    const rds = await s.next(5000);
    const bytes = Buffer.concat(rds.resources.map((r) => Buffer.from(r.value)));
    assert.ok(bytes.includes(`outbound|50051|v3|${host}`), 'the weighted route still names the v3 cluster');
  });

  test('each finding is logged once, not again on every new config state; fixing the config clears it', async () => {
    const logged = () => cpProc.stderr.filter((l) => l.includes('Referenced host+subset in destinationrule not found'));
    assert.equal(logged().length, 1, cpProc.stderr.join('\n'));
    assert.match(logged()[0]!, /code="IST0101" file="routing.yaml" line=\d+/);
    await writeFile(join(dir, 'extra.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: extra, namespace: default}\n');
    await eventually(async () => assert.ok(cpProc.stderr.some((l) => /pushed .*revision=2/.test(l)), 'a second push happened'));
    assert.equal(logged().length, 1);
    await writeFile(join(dir, 'routing.yaml'), routing.replace('subset: v3', 'subset: v2').replace('host: greeter-shadow', 'host: greeter'));
    await eventually(async () => assert.deepEqual(await findings(), []));
    const metrics = await (await fetch(`${debug}/metrics`)).text();
    assert.match(metrics, /^trellis_config_problems 0$/m);
    // The edited VirtualService is an update; the DestinationRule re-read from the same file, unchanged, is no event.
    assert.match(metrics, /^pilot_k8s_cfg_events\{type="VirtualService",event="update"\} 1$/m);
    assert.doesNotMatch(metrics, /^pilot_k8s_cfg_events\{type="DestinationRule",event="update"\}/m);
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
