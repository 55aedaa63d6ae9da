/**
 * istiod's JwksResolver: the control plane fetches each RequestAuthentication
 * jwksUri itself and inlines the keys (PILOT_JWT_ENABLE_REMOTE_JWKS=false,
 * istiod's default), so proxies never reach an issuer. Keys are cached per
 * URI and refetched every `refreshMs` (istiod: 20 min); a failed fetch is
 * retried with a doubling back-off from 1 s up to that interval, keeping the
 * last good keys if there were any (before any, translation uses the key set
 * that rejects every token, translate/authn/jwt-authn.ts fakeJwks). Every
 * change of a URI's keys calls `onChange` (the control plane pushes again).
 * URIs no longer wanted are forgotten at the next `want`.
 */
import { describeError, TrellisError } from '../../errors.js';
import type { Logger } from '../../log.js';

/** A JWKS larger than this is refused: no real key set comes close. */
const MAX_BYTES = 1024 * 1024;
const FIRST_RETRY_MS = 1000;

export interface JwksResolverOptions {
  onChange(): void;
  log: Logger;
  /** How often good keys are fetched again (istiod's JwtPubKeyRefreshInterval). */
  refreshMs?: number;
}

interface Entry {
  keys: string | undefined;
  timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  retryMs: number;
  abort: AbortController | undefined;
}

export class JwksResolver {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: JwksResolverOptions;
  readonly #refreshMs: number;

  constructor(opts: JwksResolverOptions) {
    this.#opts = opts;
    this.#refreshMs = opts.refreshMs ?? 20 * 60_000;
  }

  /** The keys last fetched for `uri`; undefined before the first good fetch. */
  keys(uri: string): string | undefined {
    return this.#entries.get(uri)?.keys;
  }

  /** A snapshot for one push: the lookup must not change while a generator uses it. */
  snapshot(): (uri: string) => string | undefined {
    const copy = new Map([...this.#entries].map(([uri, e]) => [uri, e.keys]));
    return (uri) => copy.get(uri);
  }

  /** The URIs the config refers to now (with their fetch timeouts): new ones are fetched, others dropped. */
  want(uris: ReadonlyMap<string, number>): void {
    for (const [uri, e] of this.#entries) {
      if (uris.has(uri)) continue;
      this.#stop(e);
      this.#entries.delete(uri);
    }
    for (const [uri, timeoutMs] of uris) {
      const e = this.#entries.get(uri);
      if (e) {
        e.timeoutMs = timeoutMs;
        continue;
      }
      const entry: Entry = { keys: undefined, timeoutMs, timer: undefined, retryMs: FIRST_RETRY_MS, abort: undefined };
      this.#entries.set(uri, entry);
      void this.#fetch(uri, entry);
    }
  }

  close(): void {
    for (const e of this.#entries.values()) this.#stop(e);
    this.#entries.clear();
  }

  #stop(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
    e.abort?.abort();
  }

  async #fetch(uri: string, e: Entry): Promise<void> {
    e.timer = undefined;
    const abort = (e.abort = new AbortController());
    let next: number;
    try {
      const keys = await fetchJwks(uri, e.timeoutMs, abort.signal);
      if (this.#entries.get(uri) !== e) return;
      e.retryMs = FIRST_RETRY_MS;
      next = this.#refreshMs;
      if (keys !== e.keys) {
        e.keys = keys;
        this.#opts.log.info('jwks fetched', { uri, bytes: keys.length });
        this.#opts.onChange();
      }
    } catch (err) {
      if (this.#entries.get(uri) !== e) return;
      this.#opts.log.warn('jwks fetch failed', { uri, error: describeError(err), retryMs: e.retryMs, keptKeys: e.keys !== undefined });
      next = e.retryMs;
      e.retryMs = Math.min(e.retryMs * 2, this.#refreshMs);
    } finally {
      if (e.abort === abort) e.abort = undefined;
    }
    e.timer = setTimeout(() => void this.#fetch(uri, e), next);
    e.timer.unref();
  }
}

/** One GET of a key set: 2xx, at most MAX_BYTES, JSON with a `keys` array; anything else is JWKS_FETCH_FAILED. */
export async function fetchJwks(uri: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const fail = (why: string, cause?: unknown) => new TrellisError('JWKS_FETCH_FAILED', `jwksUri ${uri}: ${why}`, { cause });
  let res: Response;
  try {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    res = await fetch(uri, { signal: AbortSignal.any(signals), redirect: 'follow' });
  } catch (err) {
    throw fail('request failed', err);
  }
  if (res.status < 200 || res.status >= 300) {
    await res.body?.cancel();
    throw fail(`status ${res.status}`);
  }
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > MAX_BYTES) {
    await res.body?.cancel();
    throw fail(`${len} bytes (at most ${MAX_BYTES})`);
  }
  const text = await res.text();
  if (text.length > MAX_BYTES) throw fail(`more than ${MAX_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw fail('not JSON', err);
  }
  if (!Array.isArray((doc as { keys?: unknown } | null)?.keys)) throw fail('no "keys" array');
  return text;
}
