#!/usr/bin/env node
/**
 * `npm test`: every compiled test file under dist/test in one node:test
 * report, in two phases. Unit and fuzz files are pure (no namespaces, no
 * fixed ports) and run two at a time; integration files start real
 * binaries, namespaces and iptables rules and keep to one at a time, as
 * their timings assume a machine that is not also running another suite.
 * Both phases go through one reporter, so the output is one TAP (or spec)
 * document with one plan and one summary, as `node --test` prints.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';

/** dist/test, or folders and files of it given as arguments (e.g. dist/test/unit/ca) for a quick local run. */
const ROOTS = process.argv.length > 2 ? process.argv.slice(2) : ['dist/test'];

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const all = ROOTS.flatMap((root) => (statSync(root).isDirectory() ? testFiles(root) : [root]));
const isIntegration = (f) => f.split('/').includes('integration');
const phases = [
  { files: all.filter((f) => !isIntegration(f)), concurrency: 2 },
  { files: all.filter(isIntegration), concurrency: 1 },
];

/** The summary lines each run ends with; summed over the phases and printed once. */
const SUMMED = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms'];

async function* merged() {
  const totals = Object.fromEntries(SUMMED.map((k) => [k, 0]));
  let topLevel = 0;
  for (const phase of phases) {
    if (phase.files.length === 0) continue;
    const offset = topLevel;
    for await (const event of run({ files: phase.files, concurrency: phase.concurrency })) {
      const data = event.data ?? {};
      if (event.type === 'test:diagnostic' && data.nesting === 0) {
        const m = /^(\w+) ([\d.]+)$/.exec(data.message);
        if (m && SUMMED.includes(m[1])) {
          totals[m[1]] += Number(m[2]);
          continue;
        }
      }
      if (event.type === 'test:plan' && data.nesting === 0) continue;
      if ((event.type === 'test:pass' || event.type === 'test:fail') && data.nesting === 0) {
        topLevel = Math.max(topLevel, offset + data.testNumber);
        yield { ...event, data: { ...data, testNumber: offset + data.testNumber } };
        continue;
      }
      yield event;
    }
  }
  yield { type: 'test:plan', data: { nesting: 0, count: topLevel } };
  for (const k of SUMMED) yield { type: 'test:diagnostic', data: { nesting: 0, message: `${k} ${totals[k]}` } };
  if (totals.fail > 0 || totals.cancelled > 0) process.exitCode = 1;
}

// Node 20's tap reporter is an async generator, its spec reporter a Transform stream.
if (process.stdout.isTTY) Readable.from(merged()).pipe(new spec()).pipe(process.stdout);
else for await (const chunk of tap(merged())) process.stdout.write(chunk);
