/**
 * What one tapper asked for, from the admin API's /tap query: which requests
 * (Linkerd's tap match — path prefix, method, authority), at most how many
 * per second (Linkerd's --max-rps, 100 by default), and whether headers are
 * shown. Pure: parsing, matching, the rate limit and header redaction.
 */
import { TrellisError } from '../../errors.js';
import type { Headers } from '../router/header-ops.js';

export interface TapMatch {
  /** Requests whose path (without the query) starts with this. */
  readonly pathPrefix: string | undefined;
  /** Upper case, compared exactly. */
  readonly method: string | undefined;
  /** Lower case, compared without case (a host name). */
  readonly authority: string | undefined;
  /** Requests per second shown at most; the others are dropped and counted. */
  readonly maxRps: number;
  /** Request and response headers in the events (redacted: REDACTED_HEADERS). */
  readonly headers: boolean;
}

/** Linkerd's default for `tap --max-rps`. */
export const DEFAULT_MAX_RPS = 100;
/** A tapper cannot ask for more: past this the proxy spends its time tapping. */
export const MAX_MAX_RPS = 10_000;

const PARAMS = new Set(['path', 'method', 'authority', 'max_rps', 'headers']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The /tap query, or a TAP_REQUEST error naming every bad parameter. */
export function parseTapQuery(q: URLSearchParams): TapMatch {
  const errors: string[] = [];
  for (const k of new Set(q.keys())) {
    if (!PARAMS.has(k)) errors.push(`unknown parameter "${k}" (known: ${[...PARAMS].join(', ')})`);
    else if (q.getAll(k).length > 1) errors.push(`${k}: given more than once`);
  }
  const path = q.get('path') ?? undefined;
  if (path !== undefined && !path.startsWith('/')) errors.push(`path: a prefix starts with "/", not ${JSON.stringify(path)}`);
  const method = q.get('method') ?? undefined;
  if (method !== undefined && !TOKEN.test(method)) errors.push(`method: not an HTTP method: ${JSON.stringify(method)}`);
  const authority = q.get('authority') ?? undefined;
  if (authority === '') errors.push('authority: empty');
  const rps = q.get('max_rps');
  const maxRps = rps === null ? DEFAULT_MAX_RPS : Number(rps);
  if (rps !== null && !(rps.trim() !== '' && Number.isFinite(maxRps) && maxRps > 0 && maxRps <= MAX_MAX_RPS)) {
    errors.push(`max_rps: a number above 0 and at most ${MAX_MAX_RPS}, not ${JSON.stringify(rps)}`);
  }
  const headers = q.get('headers');
  if (headers !== null && headers !== 'true' && headers !== 'false') errors.push(`headers: true or false, not ${JSON.stringify(headers)}`);
  if (errors.length > 0) throw new TrellisError('TAP_REQUEST', `bad tap request: ${errors.join('; ')}`);
  return { pathPrefix: path, method: method?.toUpperCase(), authority: authority?.toLowerCase(), maxRps, headers: headers === 'true' };
}

/** Whether a request is one the tapper asked for; `path` may carry a query, which the prefix does not see. */
export function tapMatches(m: TapMatch, method: string, authority: string, path: string): boolean {
  if (m.method !== undefined && method !== m.method) return false;
  if (m.authority !== undefined && authority.toLowerCase() !== m.authority) return false;
  if (m.pathPrefix !== undefined) {
    const q = path.indexOf('?');
    return (q < 0 ? path : path.slice(0, q)).startsWith(m.pathPrefix);
  }
  return true;
}

/**
 * At most `rate` requests a second, in bursts of up to max(1, rate): a token
 * bucket, so a fractional rate (0.5: one every two seconds) works too.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(rate: number, nowMs: number) {
    this.#rate = rate;
    this.#burst = Math.max(1, rate);
    this.#tokens = this.#burst;
    this.#at = nowMs;
  }

  take(nowMs: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((nowMs - this.#at) / 1000) * this.#rate);
    this.#at = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Headers whose values never leave the proxy through tap: credentials and sessions. */
export const REDACTED_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
export const REDACTED = 'REDACTED';

/** Linkerd's header list ({name, valueStr}), one entry per value, pseudo-headers left out (the event has them as fields). */
export function tapHeaders(h: Headers): Array<{ name: string; valueStr: string }> {
  const out: Array<{ name: string; valueStr: string }> = [];
  for (const [name, v] of Object.entries(h)) {
    if (v === undefined || name.startsWith(':')) continue;
    const redact = REDACTED_HEADERS.has(name.toLowerCase());
    for (const value of Array.isArray(v) ? v : [String(v)]) out.push({ name, valueStr: redact ? REDACTED : value });
  }
  return out;
}
