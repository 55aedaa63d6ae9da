/**
 * Where tokens are found, as Envoy's jwt_authn extractor looks: headers
 * (after a value prefix found anywhere in the value, the token's own
 * characters up to the first other one), query parameters and cookies.
 * Each token remembers where it came from, to be removed from a header once
 * verified unless the provider forwards it.
 */
import type { RequestView } from '../../router/route-match.js';
import type { Headers } from '../../router/header-ops.js';
import type { TokenLocation } from './jwt-plan.js';

export interface FoundToken {
  token: string;
  /** Set for a header location: the header to remove once the token is verified. */
  header: string | undefined;
  /** Issuers allowed for a token found here; undefined: any (a provider without an issuer reads this location). */
  issuers: ReadonlySet<string> | undefined;
}

/** The characters of a compact JWS (base64url and dots; '+', '/' and '=' are tolerated as Envoy's extractor does). */
const TOKEN_RUN = /^[A-Za-z0-9._\-+/=]+/;

function afterPrefix(value: string, prefix: string): string | undefined {
  if (prefix === '') return value;
  const at = value.indexOf(prefix);
  if (at < 0) return undefined;
  return TOKEN_RUN.exec(value.slice(at + prefix.length))?.[0];
}

function cookie(headers: Headers, name: string): string | undefined {
  const raw = headers['cookie'];
  for (const line of Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

function valuesAt(view: RequestView, loc: TokenLocation): { value: string; header: string | undefined }[] {
  if (loc.kind === 'param') return (view.params ??= new URLSearchParams(view.query)).getAll(loc.name).map((value) => ({ value, header: undefined }));
  if (loc.kind === 'cookie') {
    const v = cookie(view.headers, loc.name);
    return v ? [{ value: v, header: undefined }] : [];
  }
  const raw = view.headers[loc.name];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const out: { value: string; header: string | undefined }[] = [];
  for (const v of list) {
    const token = afterPrefix(v, loc.prefix);
    if (token) out.push({ value: token, header: loc.name });
  }
  return out;
}

/** A location's identity: the same header with another prefix is another location. */
const keyOf = (l: TokenLocation) => (l.kind === 'header' ? `h:${l.name}:${l.prefix}` : `${l.kind[0]}:${l.name}`);

/** The tokens at the locations of `providers` (once each), with the issuers allowed at each location. */
export function extractTokens(view: RequestView, providers: readonly { issuer: string; locations: readonly TokenLocation[] }[]): FoundToken[] {
  const locs = new Map<string, { loc: TokenLocation; issuers: Set<string> | undefined }>();
  for (const p of providers) {
    for (const loc of p.locations) {
      const k = keyOf(loc);
      let e = locs.get(k);
      if (!e) locs.set(k, (e = { loc, issuers: new Set() }));
      if (!p.issuer) e.issuers = undefined;
      else e.issuers?.add(p.issuer);
    }
  }
  const out: FoundToken[] = [];
  for (const { loc, issuers } of locs.values()) {
    for (const v of valuesAt(view, loc)) out.push({ token: v.value, header: v.header, issuers });
  }
  return out;
}
