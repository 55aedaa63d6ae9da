/**
 * The analyzers only `trellis analyze` runs, on Istio's own test data, with
 * the findings Istio expects (pkg/config/analysis/analyzers/analyzers_test.go):
 * the same objects reported under the same codes, none else — after the
 * namespaces istioctl analyze never reads are dropped, as it drops them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigText } from '../../../src/config/load-config.js';
import { acceptFile, mergeFiles } from '../../../src/controlplane/sources/file-merge.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { analyzeAll, isAnalyzed } from '../../../src/controlplane/analyze/analyze-all.js';

const corpus = '/work/shared/conformance/istio-analyze';
const skip = !existsSync(corpus) && `${corpus} not present`;

/** "namespace/name" of every object reported with `code` in one corpus file, in report order. */
function reported(file: string, code: string): string[] {
  const merged = mergeFiles([[file, acceptFile(undefined, loadConfigText(file, readFileSync(join(corpus, file), 'utf8')))]]);
  const objects = new Map([...merged.objects].filter(([, o]) => isAnalyzed(o)));
  const model = buildModel({ objects, problems: [], revision: 1 });
  return analyzeAll([...objects.values()], model).filter((m) => m.type.code === code).map((m) => `${m.object.metadata.namespace}/${m.object.metadata.name}`);
}

const cases: [string, string, string[]][] = [
  ['virtualservice_conflictingmeshgatewayhosts.yaml', 'IST0109', ['bar/ratings', 'foo/bogus-productpage', 'foo/productpage', 'foo/ratings', 'team2/ratings', 'team3/ratings', 'team4/ratings']],
  ['virtualservice_conflictingmeshgatewayhosts_with_exportto.yaml', 'IST0109', ['bar/productpage', 'bar/productpage-c', 'bar/productpage-d', 'foo/productpage', 'foo/productpage-c', 'foo/productpage-d']],
  ['service-no-port-name.yaml', 'IST0118', ['my-namespace1/my-service1', 'my-namespace1/my-service1', 'my-namespace2/my-service2']],
  ['service-port-name.yaml', 'IST0118', []],
  ['service-no-port-name-system-namespace.yaml', 'IST0118', []],
  ['incorrect-port-name-external-name-service-type.yaml', 'IST0150', ['nginx-ns/nginx', 'nginx-ns2/nginx-svc2', 'nginx-ns3/nginx-svc3']],
  ['correct-port-name-external-name-service-type.yaml', 'IST0150', []],
];

for (const [file, code, expected] of cases) {
  test(`${file}: ${code} for what Istio reports`, { skip }, () => {
    assert.deepEqual(reported(file, code).sort(), expected);
  });
}

test('the port analyzer finds nothing to say about ports Istio would not report either, anywhere in the corpus', { skip }, () => {
  const files = ['service-port-name.yaml', 'correct-port-name-external-name-service-type.yaml'];
  for (const f of files) assert.deepEqual([...reported(f, 'IST0118'), ...reported(f, 'IST0150')], [], f);
});
