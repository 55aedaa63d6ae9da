/**
 * Requests from the debugging CLI to a control plane's debug port or a
 * proxy's admin API. Every failure is an UNREACHABLE error that says what
 * was asked of whom and why it failed, so the message alone tells the user
 * which address or flag to fix.
 */
import http from 'node:http';
import { TrellisError } from '../errors.js';
import { connectIn } from '../local/netns/connect.js';

export interface Reply {
  status: number;
  body: string;
}

export interface RequestOptions {
  /** Who is at the address, for messages: "the control plane", "the proxy of reviews-v1.default". */
  what: string;
  method?: 'GET' | 'POST';
  timeoutMs?: number;
  /**
   * The network namespace the address is in (a `trellis up` pod's admin API on
   * its own 127.0.0.1): the socket is made inside it, which needs root — as
   * reaching into a pod needs `kubectl exec` rights.
   */
  netns?: string;
}

function split(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(i + 1)) };
}

/** One request; resolves with any status (the caller decides what is an error), rejects UNREACHABLE when no answer came. */
export function request(address: string, path: string, opts: RequestOptions): Promise<Reply> {
  const { host, port } = split(address);
  const where = `${opts.what} at ${address}${path}${opts.netns ? ` in network namespace ${opts.netns}` : ''}`;
  return new Promise((resolve, reject) => {
    const netns = opts.netns;
    const createConnection = netns === undefined ? undefined : () => connectIn(netns, host, port);
    const req = http.request({ host, port, path, method: opts.method ?? 'GET', timeout: opts.timeoutMs ?? 10_000, ...(createConnection ? { createConnection } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(new TrellisError('UNREACHABLE', `${where}: the answer broke off`, { cause: err })));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      reject(new TrellisError('UNREACHABLE', `cannot reach ${where}${code ? ` (${code})` : ''}`, { cause: err }));
    });
    req.end();
  });
}

/** A 2xx answer's JSON; another status or unparsable JSON is UNREACHABLE with the peer's own words. */
export async function requestJson<T>(address: string, path: string, opts: RequestOptions): Promise<T> {
  const r = await requestOk(address, path, opts);
  try {
    return JSON.parse(r.body) as T;
  } catch {
    throw new TrellisError('UNREACHABLE', `${opts.what} at ${address}${path} did not answer JSON: ${r.body.slice(0, 200)}`);
  }
}

/** A 2xx answer, else UNREACHABLE quoting the status and the start of the body. */
export async function requestOk(address: string, path: string, opts: RequestOptions): Promise<Reply> {
  const r = await request(address, path, opts);
  if (r.status < 200 || r.status >= 300) throw new TrellisError('UNREACHABLE', `${opts.what} at ${address}${path} answered ${r.status}: ${r.body.trim().slice(0, 300)}`);
  return r;
}
