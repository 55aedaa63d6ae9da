import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../../src/config/load-config.js';
import { acceptFile, mergeFiles } from '../../../src/controlplane/sources/file-merge.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import type { MeshModel } from '../../../src/controlplane/registry/model.js';
import { ConfigAnalysis } from '../../../src/controlplane/analyze/config-analysis.js';
import type { Logger } from '../../../src/log.js';
import type { AnyObject } from '../../../src/config/objects.js';
import { yaml } from '../config/helpers.js';

function recordingLog(): Logger & { warned: string[]; errors: string[] } {
  const warned: string[] = [];
  const errors: string[] = [];
  return { warned, errors, debug() {}, info() {}, warn: (m) => void warned.push(m), error: (m) => void errors.push(m), enabled: () => true };
}

const vs = (host: string) => yaml`
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: {name: r, namespace: default}
  spec:
    hosts: [r]
    http:
    - route:
      - destination: {host: ${host}}
`;

function load(files: Record<string, string>) {
  const merged = mergeFiles(Object.keys(files).sort().map((f) => [f, acceptFile(undefined, loadConfigText(f, files[f]!))] as const));
  return { merged, model: buildModel({ objects: merged.objects, problems: merged.problems, revision: 1 }) };
}

test('findings are logged once when they appear, again only after they went away and came back', () => {
  const log = recordingLog();
  const analysis = new ConfigAnalysis(log);
  const bad = load({ 'r.yaml': vs('nowhere') });
  analysis.update(bad.merged.objects.values(), bad.model);
  analysis.update(bad.merged.objects.values(), bad.model);
  assert.deepEqual(log.warned, ['VirtualService default/r: spec.http[0].route[0].destination.host: Referenced host not found: "nowhere"']);
  const good = load({ 'r.yaml': vs('r'), 's.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: r}\nspec: {ports: [{port: 80}]}\n' });
  analysis.update(good.merged.objects.values(), good.model);
  assert.deepEqual(analysis.with([]), []);
  analysis.update(bad.merged.objects.values(), bad.model);
  assert.equal(log.warned.length, 2);
});

test('with(): the source\'s problems and the findings in one list, by file then line', () => {
  const analysis = new ConfigAnalysis(recordingLog());
  const { merged, model } = load({ 'b.yaml': vs('nowhere'), 'a.yaml': 'kind: [oops\n', 'c.yaml': 'apiVersion: v1\nkind: Nope\n' });
  analysis.update(merged.objects.values(), model);
  const all = analysis.with(merged.problems);
  assert.deepEqual(all.map((p) => [p.file, p.code]), [['a.yaml', 'CONFIG_PARSE'], ['b.yaml', 'IST0101'], ['c.yaml', 'CONFIG_INVALID']]);
  assert.equal(analysis.with(merged.problems), all, 'memoised for the same source list');
});

test('an analyzer failure costs the findings, never the caller (pushes go on)', () => {
  const log = recordingLog();
  const analysis = new ConfigAnalysis(log);
  const broken = { services: null, domainSuffix: 'cluster.local' } as unknown as MeshModel;
  const { merged } = load({ 'r.yaml': vs('nowhere') });
  assert.doesNotThrow(() => analysis.update(merged.objects.values() as Iterable<AnyObject>, broken));
  assert.deepEqual(analysis.with([]), []);
  assert.equal(log.errors.length, 1);
});
