/** The consistent-hash key of a request from the route's hash policies (header, cookie, query, source IP). */
import { fnv1a } from '../util.js';
import type { HttpStream } from '../filters/stream.js';
import type { HashPart } from './route-action.js';

function cookie(h: string | string[] | undefined, name: string): string | undefined {
  if (!h) return undefined;
  const header = typeof h === 'string' ? h : h.join('; ');
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Undefined when no policy yields a value (the balancer then picks at random, as Envoy does). */
export function requestHash(ex: HttpStream, parts: readonly HashPart[]): number | undefined {
  let key = '';
  for (const p of parts) {
    let v: string | string[] | undefined;
    switch (p.kind) {
      case 'header': v = ex.req.headers[p.name]; break;
      case 'cookie': v = cookie(ex.req.headers.cookie, p.name); break;
      case 'query': {
        const q = ex.info.path.indexOf('?');
        v = q < 0 ? undefined : new URLSearchParams(ex.info.path.slice(q + 1)).get(p.name) ?? undefined;
        break;
      }
      case 'sourceIp': v = ex.conn.remote.slice(0, ex.conn.remote.lastIndexOf(':')); break;
    }
    if (v !== undefined) key += `${Array.isArray(v) ? v.join(',') : v}\u0000`;
  }
  return key === '' ? undefined : fnv1a(key);
}
