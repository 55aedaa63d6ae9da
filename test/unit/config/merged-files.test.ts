/**
 * The directory source merges file by file (MergedFiles); after every step
 * of a random sequence of file changes that must be exactly what mergeFiles
 * gives over all the files: the same winners (by identity), in key order,
 * and the same problems (conflicts included) in the same order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeFiles, type FileContribution } from '../../../src/controlplane/sources/file-merge.js';
import { MergedFiles } from '../../../src/controlplane/sources/merged-files.js';
import type { AnyObject } from '../../../src/config/objects.js';
import type { ConfigProblem } from '../../../src/config/config-problem.js';

const files = ['a.yaml', 'b.yaml', 'sub/c.yaml', 'sub-d.yaml'];

const objectArb = fc.record({
  kind: fc.constantFrom('Service', 'EndpointSlice'),
  name: fc.constantFrom('x', 'y', 'z'),
  namespace: fc.constantFrom(undefined, 'team'),
  line: fc.integer({ min: 1, max: 9 }),
  port: fc.integer({ min: 1, max: 3 }),
});
const problemArb = fc.record({ line: fc.integer({ min: 1, max: 9 }), elsewhere: fc.boolean() });
const stepArb = fc.record({
  file: fc.constantFrom(...files),
  remove: fc.boolean(),
  objects: fc.array(objectArb, { maxLength: 4 }),
  problems: fc.array(problemArb, { maxLength: 2 }),
});

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function contributionOf(file: string, step: Step): FileContribution {
  const objects = step.objects.map((o) => ({
    apiVersion: o.kind === 'Service' ? 'v1' : 'discovery.k8s.io/v1',
    kind: o.kind,
    metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) },
    spec: { ports: [{ port: o.port }] },
    origin: { file, line: o.line },
  })) as unknown as AnyObject[];
  // A problem may name another file (as a kept object's origin can), which mergeFiles orders last.
  const problems: ConfigProblem[] = step.problems.map((p) => ({ code: 'CONFIG_INVALID', file: p.elsewhere ? 'gone.yaml' : file, line: p.line, reason: `r${p.line}` }));
  return { objects, problems, parsedOnce: true };
}

test('MergedFiles equals mergeFiles after every step of random file changes', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 25 }), (steps) => {
      const merged = new MergedFiles();
      const current = new Map<string, FileContribution>();
      for (const step of steps) {
        const c = step.remove ? undefined : contributionOf(step.file, step);
        if (c) current.set(step.file, c);
        else current.delete(step.file);
        merged.set(step.file, c);
        const want = mergeFiles([...current.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
        const got = merged.result();
        assert.deepEqual([...got.objects.keys()], [...want.objects.keys()]);
        for (const [key, o] of want.objects) assert.equal(got.objects.get(key), o, `winner of ${key}`);
        assert.deepEqual(got.problems, want.problems);
      }
    }),
    { numRuns: 300 },
  );
});

test('MergedFiles hands out the same objects map while no winner changes', () => {
  const merged = new MergedFiles();
  const svc = (file: string, port: number) => ({ objects: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port }] }, origin: { file, line: 1 } } as unknown as AnyObject], problems: [], parsedOnce: true });
  merged.set('a.yaml', svc('a.yaml', 1));
  merged.set('b.yaml', svc('b.yaml', 2));
  const first = merged.result();
  merged.set('b.yaml', svc('b.yaml', 3));
  const second = merged.result();
  assert.equal(second.objects, first.objects, 'only the conflict loser changed');
  assert.equal(second.problems.length, 1);
  merged.set('a.yaml', svc('a.yaml', 4));
  assert.notEqual(merged.result().objects, first.objects);
});
