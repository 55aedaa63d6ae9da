/**
 * Small value conversions shared by the route translators: Istio's Go-style
 * durations, percentages and RE2 matchers, into Envoy's message types.
 */
import { create } from '@bufbuild/protobuf';
import { DurationSchema, type Duration } from '@bufbuild/protobuf/wkt';
import { FractionalPercentSchema, FractionalPercent_DenominatorType, type FractionalPercent } from '../../../gen/envoy/type/v3/percent_pb.js';
import { RegexMatcherSchema, type RegexMatcher } from '../../../gen/envoy/type/matcher/v3/regex_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../../gen/envoy/type/matcher/v3/string_pb.js';
import type { StringMatch } from '../../../config/objects.js';
import { logger } from '../../../log.js';

const log = logger('translate');

const unitNanos: Record<string, bigint> = {
  h: 3_600_000_000_000n,
  m: 60_000_000_000n,
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1_000n,
  'µs': 1_000n,
  ns: 1n,
};

/**
 * Parse a Go/Istio duration ("1.5s", "100ms", "1h30m"). Returns undefined
 * (and logs) for malformed text: validation reports it, translation must not
 * fail the whole push because of one field.
 */
export function parseDuration(text: string | undefined, field: string): Duration | undefined {
  if (text === undefined) return undefined;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let nanos = 0n;
  let consumed = 0;
  for (let m = re.exec(text); m !== null && consumed < text.length; m = re.exec(text)) {
    const [whole, num, unit] = m;
    const [int, frac = ''] = num!.split('.');
    const scale = unitNanos[unit!]!;
    const fracNanos = frac === '' ? 0n : (BigInt(frac.slice(0, 9).padEnd(9, '0')) * scale) / 1_000_000_000n;
    nanos += BigInt(int!) * scale + fracNanos;
    consumed += whole.length;
  }
  if (text === '' || consumed !== text.length) {
    log.warn('ignoring malformed duration', { field, value: text });
    return undefined;
  }
  return durationFromNanos(nanos);
}

export function durationFromNanos(nanos: bigint): Duration {
  return create(DurationSchema, { seconds: nanos / 1_000_000_000n, nanos: Number(nanos % 1_000_000_000n) });
}

export const zeroDuration = (): Duration => durationFromNanos(0n);

/** Istio's translatePercentToFractionalPercent: a double percent, scaled to MILLION so 0.1% survives. */
export function fractionFromPercent(value: number): FractionalPercent {
  const numerator = Math.round(Math.min(100, Math.max(0, value)) * 10_000);
  return create(FractionalPercentSchema, { numerator, denominator: FractionalPercent_DenominatorType.MILLION });
}

/** Istio's translateIntegerToFractionalPercent (deprecated integer `percent` fields). */
export function fractionFromInteger(value: number): FractionalPercent {
  return create(FractionalPercentSchema, { numerator: Math.min(100, Math.max(0, value)), denominator: FractionalPercent_DenominatorType.HUNDRED });
}

export function re2(regex: string): RegexMatcher {
  return create(RegexMatcherSchema, { regex, engineType: { case: 'googleRe2', value: {} } });
}

/** Escape a literal for use inside an RE2 pattern. */
export function escapeRe2(literal: string): string {
  return literal.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/**
 * Istio StringMatch → Envoy StringMatcher; undefined for an empty match
 * (callers turn that into a presence match, as Istio does).
 */
export function stringMatcher(m: StringMatch, ignoreCase = false): StringMatcher | undefined {
  if (m.exact !== undefined) return create(StringMatcherSchema, { matchPattern: { case: 'exact', value: m.exact }, ignoreCase });
  if (m.prefix !== undefined) return create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: m.prefix }, ignoreCase });
  if (m.regex !== undefined) return create(StringMatcherSchema, { matchPattern: { case: 'safeRegex', value: re2(m.regex) } });
  return undefined;
}

/** Keys of a record in a stable order: translation output must not depend on YAML key order. */
export function sortedEntries<V>(rec: Readonly<Record<string, V>> | undefined): [string, V][] {
  return Object.entries(rec ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
