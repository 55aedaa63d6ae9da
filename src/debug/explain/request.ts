/**
 * The request explain follows, as the app's HTTP/1.1 client (curl) would
 * send it: Host with the port unless it is the scheme's default, curl's
 * default headers, and an x-request-id — the user's, else one derived from
 * --seed (the router's weighted pick hashes it, so the same id gives the
 * same pick), else a random one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { TrellisError } from '../../errors.js';
import type { Headers } from '../../proxy/router/header-ops.js';
import type { RequestSpec } from './types.js';

export interface ParsedRequest {
  method: string;
  url: string;
  scheme: 'http' | 'https';
  host: string;
  /** The host as an IP literal, when it is one. */
  ip: string | undefined;
  port: number;
  authority: string;
  path: string;
  query: string;
  headers: Headers;
  requestId: string;
  seed: number | undefined;
}

/** A UUID-shaped id from the seed: stable across runs and machines. */
export function requestIdForSeed(seed: number): string {
  const h = createHash('sha256').update(`trellis-explain:${seed}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function parseRequest(spec: RequestSpec): ParsedRequest {
  let u: URL;
  try {
    u = new URL(spec.url);
  } catch {
    throw new TrellisError('CLI_USAGE', `not a URL: ${spec.url} (give http://HOST[:PORT]/PATH)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TrellisError('CLI_USAGE', `explain follows http:// and https:// requests, not ${u.protocol}`);
  const method = spec.method.toUpperCase();
  if (!/^[A-Z][A-Z-]{0,19}$/.test(method)) throw new TrellisError('CLI_USAGE', `not an HTTP method: ${spec.method}`);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port ? Number(u.port) : scheme === 'https' ? 443 : 80;
  const authority = u.port ? `${u.hostname}:${u.port}` : u.hostname;
  const requestId = spec.headers['x-request-id'] ?? (spec.seed !== undefined ? requestIdForSeed(spec.seed) : randomUUID());
  const headers: Headers = { host: authority, 'user-agent': 'curl', accept: '*/*', ...spec.headers, 'x-request-id': requestId };
  return {
    method, url: spec.url, scheme, host, ip: isIP(host) ? host : undefined, port, authority,
    path: u.pathname, query: u.search.slice(1), headers, requestId, seed: spec.seed,
  };
}

/** 'k: v' header flags into a map with lower-case names; a malformed one is a usage error. */
export function parseHeaderFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf(':');
    const name = i > 0 ? v.slice(0, i).trim().toLowerCase() : '';
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new TrellisError('CLI_USAGE', `-H wants 'name: value', not ${JSON.stringify(v)}`);
    out[name] = v.slice(i + 1).trim();
  }
  return out;
}
