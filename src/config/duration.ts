/**
 * Istio durations ("1.5s", "100ms", "2m", "1h30m"): Go's time.ParseDuration
 * syntax, which is what istioctl and the API server accept for these fields.
 * Negative durations are rejected because no Istio field gives them a meaning.
 */

const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a duration into milliseconds (fractional below 1 ms, e.g. "1us" is 0.001).
 * Returns undefined when the text is not a duration; "0" alone is accepted as Go does.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0) return undefined;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < text.length) {
    const m = part.exec(text);
    if (m === null) return undefined;
    total += Number(m[1]) * unitMs[m[2]!]!;
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Like parseDuration, but for callers that have already validated the text. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new RangeError(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}
