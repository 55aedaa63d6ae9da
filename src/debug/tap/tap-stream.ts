/**
 * `trellis tap`'s connection: GET /tap on one proxy's admin API (in the
 * pod's network namespace for a `trellis up` pod), each NDJSON line rendered
 * as it arrives, until the proxy closes the stream or the user stops it.
 */
import http from 'node:http';
import { TrellisError } from '../../errors.js';
import { connectIn } from '../../local/netns/connect.js';
import type { TapEvent } from '../../proxy/tap/tap-event.js';
import { parseTapQuery } from '../../proxy/tap/tap-match.js';
import type { Write } from '../output.js';
import type { ProxyTarget } from '../proxy-config/target.js';
import { renderTapEvent, type TapOutput } from './render.js';

export interface TapFlags {
  path?: string | undefined;
  method?: string | undefined;
  authority?: string | undefined;
  maxRps?: string | undefined;
  headers?: boolean | undefined;
}

/** The /tap query for the flags, checked here with the proxy's own parser: a bad flag is a usage error before any connection. */
export function tapQuery(f: TapFlags): string {
  const q = new URLSearchParams();
  if (f.path !== undefined) q.set('path', f.path);
  if (f.method !== undefined) q.set('method', f.method);
  if (f.authority !== undefined) q.set('authority', f.authority);
  if (f.maxRps !== undefined) q.set('max_rps', f.maxRps);
  if (f.headers) q.set('headers', 'true');
  try {
    parseTapQuery(q);
  } catch (err) {
    throw new TrellisError('CLI_USAGE', (err as Error).message.replace(/max_rps/g, '--max-rps').replace(/^bad tap request: /, ''));
  }
  const s = q.toString();
  return s ? `/tap?${s}` : '/tap';
}

/**
 * Streams events until the proxy ends the stream (resolves) or `signal` aborts (resolves);
 * rejects UNREACHABLE when the proxy cannot be reached or refuses the tap.
 */
export function streamTap(target: ProxyTarget & { admin: string }, path: string, output: TapOutput, write: Write, signal?: AbortSignal): Promise<void> {
  const i = target.admin.lastIndexOf(':');
  const host = target.admin.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.admin.slice(i + 1));
  const where = `the proxy admin API of ${target.label} at ${target.admin}${path}`;
  const netns = target.netns;
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, ...(netns ? { createConnection: () => connectIn(netns, host, port) } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => { if (body.length < 4096) body += c; });
        res.on('end', () => reject(new TrellisError('UNREACHABLE', `${where} answered ${res.statusCode}: ${body.trim()}`)));
        return;
      }
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const l of lines) if (l !== '') write(`${renderTapEvent(JSON.parse(l) as TapEvent, output)}\n`);
      });
      res.on('end', resolve);
      res.on('error', (err) => reject(new TrellisError('UNREACHABLE', `${where}: the stream broke off`, { cause: err })));
    });
    req.on('error', (err) => {
      if (signal?.aborted) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      reject(new TrellisError('UNREACHABLE', `cannot reach ${where}${code ? ` (${code})` : ''}`, { cause: err }));
    });
    signal?.addEventListener('abort', () => { req.destroy(); resolve(); }, { once: true });
  });
}
