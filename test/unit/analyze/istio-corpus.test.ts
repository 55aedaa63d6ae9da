/**
 * Istio's own test data for its VirtualService analyzers, with the findings
 * Istio expects (pkg/config/analysis/analyzers/analyzers_test.go): every
 * VirtualService Istio reports must be reported, no other — except where
 * Trellis' validation already refused an object, as listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigProblem } from '../../../src/config/config-problem.js';
import { analyzeFiles, messageOf } from './helpers.js';

const corpus = '/work/shared/conformance/istio-analyze';
const skip = !existsSync(corpus) && `${corpus} not present`;

function findings(file: string, kinds: RegExp): string[] {
  const all = analyzeFiles({ [file]: readFileSync(join(corpus, file), 'utf8') }, true);
  return all.filter((p) => kinds.test(messageOf(p))).map(subjectOf);
}

/** "VirtualService default/reviews: spec..." → "default/reviews" */
const subjectOf = (p: ConfigProblem) => p.reason.split(':')[0]!.replace('VirtualService ', '');

test('virtualservice_destinationhosts.yaml: the hosts and ports Istio reports', { skip }, () => {
  const got = findings('virtualservice_destinationhosts.yaml', /^Referenced (host|mirror host|host:port) not found/);
  assert.deepEqual(got.sort(), [
    'default/reviews-2port-missing', // Istio: IST0112 (port selector required). Here the Service "reviews-2port" itself is refused
    'default/reviews-2port-present', // (port protocol HTTP/HTTPS is not a Kubernetes protocol), so the host does not exist.
    'default/reviews-bogusport',
    'default/reviews-bookinfo-other',
    'default/reviews-mirror-bogushost',
    'hello/hello-export-to-bogus',
    'istio-system/cross-namespace-details',
    // Istio also reports default/reviews-bogushost twice: Trellis' validation refuses it (a null destination, weights summing to 0).
  ]);
});

test('virtualservice_destinationrules.yaml: the subsets Istio reports', { skip }, () => {
  const got = findings('virtualservice_destinationrules.yaml', /^Referenced (host|mirror)\+subset in destinationrule not found/);
  assert.deepEqual(got.sort(), ['default/reviews-bogussubset', 'default/reviews-mirror-bogussubset']);
});
