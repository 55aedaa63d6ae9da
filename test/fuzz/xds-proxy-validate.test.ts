/**
 * Fuzz target: the proxy's resource validators (xds-client/proxy-types.ts:
 * decode and compile of Listener, RouteConfiguration, Cluster,
 * ClusterLoadAssignment and Secret, as a response's resources reach them
 * through decodeAll). Inputs: valid resources (proxy-seeds.ts) mutated
 * structurally (proto-mutate.ts) and as raw bytes. Properties: decoding never
 * throws, answers either a compiled value or a non-empty list of errors, and
 * takes well under a second; a route table compiled from fuzzed config
 * matches hostile request paths and headers in bounded time with the
 * proxy's regex settings.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { fromBinary } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { RouteConfigurationSchema } from '../../src/gen/envoy/config/route/v3/route_pb.js';
import { boundRegexBacktracking } from '../../src/proxy/router/regex-safety.js';
import type { RouteTable } from '../../src/proxy/router/route-table.js';
import { decodeAll } from '../../src/proxy/xds-client/decode-all.js';
import { INTERNAL_ERROR } from '../../src/proxy/xds-client/proxy-types.js';
import type { ResourceType } from '../../src/proxy/xds-client/resource-type.js';
import { xdsRegistry } from '../../src/xds/registry.js';
import { fuzz, mutated } from './harness.js';
import { Choices, mutateBytes } from './proto-mutate.js';
import { buildSeeds, type Seed } from './proxy-seeds.js';

/** Far above a real compile (milliseconds), far below a hang. */
const DECODE_MS_MAX = 1000;
const MATCH_MS_MAX = 1000;

let seeds: Seed[];
const reached = { ok: 0, nacked: 0, routeTables: 0, notLinear: 0 };

before(() => {
  // As `trellis proxy` does at start (src/cli/proxy.ts).
  boundRegexBacktracking();
  // For the test only: the 'l' flag tells which patterns V8's linear engine (the fallback) can run.
  setFlagsFromString('--enable-experimental-regexp-engine');
  seeds = buildSeeds();
});

/** Every regex of a route configuration (safe_regex matchers and rewrites, wherever they are nested). */
function regexesOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) regexesOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'regex' && typeof v === 'string') out.push(v);
      else regexesOf(v, out);
    }
  }
  return out;
}

/**
 * The proxy's guarantee (regex-safety.ts): matching is bounded when V8 can fall back to its linear engine,
 * i.e. when that engine can run the pattern. Counted repetitions above 16 it cannot: such tables are
 * counted, not matched (a known gap, reported in docs/ARCHITECTURE.md).
 */
function linearCapable(pattern: string): boolean {
  try {
    new RegExp(`^(?:${pattern})$`, 'l');
    return true;
  } catch {
    return false;
  }
}

/** Decodes one resource as a response would carry it; fails the property on a throw, a slow decode or a malformed result. */
function check(type: ResourceType, any: Any): void {
  const started = performance.now();
  let r;
  try {
    r = decodeAll(type, [{ any, name: undefined, version: '1' }]);
  } catch (err) {
    assert.fail(`${type.short} validation threw: ${(err as Error).stack ?? String(err)}`);
  }
  const ms = performance.now() - started;
  assert.ok(ms < DECODE_MS_MAX, `${type.short} validation took ${ms.toFixed(0)} ms`);
  if (r.ok) {
    assert.equal(r.applied.length, 1);
    assert.equal(typeof r.applied[0]!.name, 'string');
    assert.ok(r.applied[0]!.value !== undefined);
    reached.ok++;
    if (type.short === 'RDS') {
      if (regexesOf(fromBinary(RouteConfigurationSchema, any.value)).every(linearCapable)) matchHostile(r.applied[0]!.value as RouteTable);
      else reached.notLinear++;
    }
  } else {
    assert.ok(r.detail.startsWith(`${type.short} `) && r.detail.length > type.short.length + 2, `NACK detail: ${JSON.stringify(r.detail.slice(0, 200))}`);
    assert.ok(!r.detail.includes(INTERNAL_ERROR), `a validator threw: ${r.detail.slice(0, 2000)}`);
    reached.nacked++;
  }
}

/** What a hostile client sends: paths and header values built to make a backtracking regex explode. */
const hostile = ['/' + 'a'.repeat(40) + '!', '/' + 'x'.repeat(40), '/api/v' + '1'.repeat(40) + '!', '/old/' + '/'.repeat(40)];

function matchHostile(table: RouteTable): void {
  reached.routeTables++;
  const started = performance.now();
  for (const path of hostile) {
    const headers = { 'x-user': path, 'x-env': path, ':authority': 'reviews' };
    for (const authority of ['reviews', 'reviews:9080', path.slice(1)]) table.route(authority, { path, query: `v=${path}`, headers });
  }
  const ms = performance.now() - started;
  assert.ok(ms < MATCH_MS_MAX, `matching hostile requests took ${ms.toFixed(0)} ms`);
}

test('fuzz: structurally mutated resources', async (t) => {
  const input = fc.record({ seed: fc.nat(), count: fc.integer({ min: 1, max: 4 }), choices: fc.array(fc.nat(), { minLength: 1, maxLength: 80 }) });
  await fuzz('xds-proxy-validate/structured', fc.property(input, ({ seed, count, choices }) => {
    const s = seeds[seed % seeds.length]!;
    const value = mutateBytes(s.schema, s.any.value, new Choices(choices), xdsRegistry, count);
    check(s.type, { ...s.any, value });
  }), 3000, t);
  t.diagnostic(`reached: ${JSON.stringify(reached)}`);
});

test('fuzz: resources as mutated protobuf bytes', async (t) => {
  const input = fc.nat().chain((i) => {
    const s = seeds[i % seeds.length]!;
    return mutated(fc.constant(s.any.value), 8).map((value) => ({ s, value }));
  });
  await fuzz('xds-proxy-validate/raw', fc.property(input, ({ s, value }) => check(s.type, { ...s.any, value })), 3000, t);
  t.diagnostic(`reached: ${JSON.stringify(reached)}`);
});
