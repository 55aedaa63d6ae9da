import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileProblems, loadConfigText, PROBLEM_REASON_MAX, SYNTAX_PROBLEMS_MAX } from '../../../src/config/load-config.js';

test('a file of many syntax errors lists the first few and counts the rest', () => {
  const text = Array.from({ length: 40 }, (_, i) => `k${i}: [unclosed\n`).join('---\n');
  const problems = fileProblems(loadConfigText('many.yaml', text));
  assert.equal(problems.length, SYNTAX_PROBLEMS_MAX + 1);
  const last = problems.at(-1)!;
  assert.match(last.reason, /^\d+ more YAML error\(s\) in this file, not listed$/);
  assert.ok(last.line > problems[SYNTAX_PROBLEMS_MAX - 1]!.line, 'the summary points past the listed ones');
});

test('a reason quoting a huge value keeps its start and its end', () => {
  const value = 'v'.repeat(60_000);
  const problems = fileProblems(loadConfigText('svc.yaml', `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${value}\n`));
  assert.equal(problems.length, 1);
  const { reason } = problems[0]!;
  assert.ok(reason.length <= PROBLEM_REASON_MAX + 20, `${reason.length} characters`);
  // The subject quotes the name once more: the start says which object, the end says why.
  assert.match(reason, /^Service default\/vvv+…\(\d+ bytes\)v+" is not a valid DNS-1123 name .*at most 253 characters\)$/);
});

test('short reasons are untouched', () => {
  const problems = fileProblems(loadConfigText('a.yaml', 'apiVersion: v1\nkind: Nope\nmetadata: {name: a}\n'));
  assert.deepEqual(problems.map((p) => p.reason), ['unknown kind Nope (apiVersion v1)']);
});
