/**
 * Fuzz targets are node:test tests driven by fast-check.
 *
 * In `npm test` a target runs a fixed number of cases from a fixed seed, so CI
 * is reproducible and each target costs a few seconds. `npm run fuzz` sets
 * TRELLIS_FUZZ_SECONDS: every target then runs for that long from a fresh
 * random seed (or TRELLIS_FUZZ_SEED) and reports seed, cases and time. A
 * failure reports fast-check's seed and path, so the case can be replayed, and
 * then becomes a regression test next to its target.
 */
import fc from 'fast-check';
import type { TestContext } from 'node:test';

const SECONDS = Number(process.env.TRELLIS_FUZZ_SECONDS ?? 0);
const FIXED_SEED = 0x7e11;

export interface FuzzRun {
  seed: number;
  runs: number;
  ms: number;
}

/** True under `npm run fuzz` (a time budget per target instead of a fixed number of cases). */
export const longFuzz = SECONDS > 0;

function params(ciRuns: number): fc.Parameters<unknown> {
  if (!longFuzz) return { seed: FIXED_SEED, numRuns: ciRuns };
  const seed = process.env.TRELLIS_FUZZ_SEED ? Number(process.env.TRELLIS_FUZZ_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  return { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false };
}

function report(t: TestContext | undefined, name: string, r: FuzzRun): void {
  const line = `fuzz ${name}: ${r.runs} cases in ${(r.ms / 1000).toFixed(1)} s, seed ${r.seed}`;
  t?.diagnostic(line);
  if (longFuzz) process.stdout.write(`# ${line}\n`);
}

/**
 * Runs `property` as fuzz target `name`: `ciRuns` cases from the fixed seed in
 * `npm test`, or the whole time budget in `npm run fuzz`. Throws fast-check's
 * report (seed, path, shrunk counterexample) when a case fails.
 */
export async function fuzz<T>(name: string, property: fc.IAsyncPropertyWithHooks<T> | fc.IPropertyWithHooks<T>, ciRuns: number, t?: TestContext): Promise<FuzzRun> {
  const p = params(ciRuns);
  const start = performance.now();
  const details = await fc.check(property as fc.IAsyncProperty<T>, p as fc.Parameters<T>);
  const run = { seed: details.seed, runs: details.numRuns, ms: performance.now() - start };
  report(t, name, run);
  if (details.failed) {
    // fast-check 4 keeps the property's error out of its report: without it a failure says where, not what.
    const err = details.errorInstance;
    const what = err instanceof Error ? (err.stack ?? err.message) : String(err);
    throw new Error(`fuzz target ${name} failed\n${fc.defaultReportMessage(details)}\nGot error: ${what}`, { cause: err });
  }
  return run;
}

/**
 * Byte sequences near a valid message: the message with random edits (bytes
 * replaced, inserted, deleted, a span duplicated) — most inputs reach deep
 * parser states rather than dying at the first byte, as pure random bytes do.
 */
export function mutated(valid: fc.Arbitrary<Uint8Array>, maxEdits = 6): fc.Arbitrary<Uint8Array> {
  const edit = fc.tuple(fc.nat(3), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }));
  return fc.tuple(valid, fc.array(edit, { maxLength: maxEdits })).map(([bytes, edits]) => {
    let b = Array.from(bytes);
    for (const [kind, at, len, byte] of edits) {
      const i = b.length === 0 ? 0 : at % (b.length + 1);
      if (kind === 0 && b.length > 0) b[i % b.length] = byte;
      else if (kind === 1) b.splice(i, 0, byte);
      else if (kind === 2) b.splice(i, 1 + (len % 8));
      else b = b.slice(0, i).concat(b.slice(i, i + (len % 16)), b.slice(i));
    }
    return Uint8Array.from(b);
  });
}

/** A split of `n` bytes into pieces (indices where a new piece starts): parsers must not care how bytes arrive. */
export function splits(maxPieces = 8): fc.Arbitrary<number[]> {
  return fc.array(fc.nat(), { maxLength: maxPieces });
}

/** Cuts `bytes` at the given points (taken modulo its length, sorted, unique). */
export function cut(bytes: Uint8Array, points: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [Buffer.alloc(0)];
  const at = [...new Set(points.map((p) => p % bytes.length))].filter((p) => p > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...at, bytes.length]) {
    out.push(Buffer.from(bytes.subarray(prev, p)));
    prev = p;
  }
  return out;
}
