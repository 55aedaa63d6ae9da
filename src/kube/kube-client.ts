/**
 * A small JSON client of the Kubernetes REST API: one request, one JSON
 * answer, failures as KubeApiError with the HTTP status and the Status
 * object's reason (NotFound, AlreadyExists, Conflict, Expired, ...), which
 * is what callers decide on.
 *
 * Why not client-node's generated API classes: they turn timestamps into
 * Date objects and back, and a Lease's MicroTime does not survive the round
 * trip (the API server wants six fractional digits). Authentication and TLS
 * still come from client-node's KubeConfig (tokens, client certificates,
 * exec plugins, the cluster CA), so every kubeconfig kubectl accepts works.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { TrellisError } from '../errors.js';

/** A list or object larger than this is refused rather than buffered (a Pod list of a large cluster is tens of MiB). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

export class KubeApiError extends TrellisError {
  /** The HTTP status (0 when no answer arrived). */
  readonly status: number;
  /** The Status object's reason (NotFound, AlreadyExists, Conflict, Expired, Forbidden, ...). */
  readonly reason: string | undefined;

  constructor(message: string, status: number, reason: string | undefined, options?: { cause?: unknown }) {
    super('KUBE_API', message, options);
    this.status = status;
    this.reason = reason;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409 && e.reason === 'Conflict';
export const isAlreadyExists = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists';
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.status === 410;

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  timeoutMs?: number;
}

export class KubeClient {
  readonly #kc: KubeConfig;
  readonly #server: string;
  #agent: http.Agent | undefined;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new TrellisError('KUBE_CONFIG', 'the kubeconfig has no current cluster');
    this.#kc = kc;
    this.#server = cluster.server.replace(/\/+$/, '');
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const url = new URL(this.#server + path);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    // Headers every time: a projected service-account token is re-read when it rotates.
    const auth: https.RequestOptions = {};
    await this.#kc.applyToHTTPSOptions(auth);
    // One agent for the client's life: client-node builds a new one per call, which would mean a TLS handshake per request.
    this.#agent ??= auth.agent as http.Agent;
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const headers: http.OutgoingHttpHeaders = { ...(auth.headers as http.OutgoingHttpHeaders | undefined), accept: 'application/json' };
    if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.length });
    const what = `${method} ${url.pathname}`;
    const { status, text } = await send(url, { method, headers, agent: this.#agent, auth: auth.auth }, body, o.timeoutMs ?? DEFAULT_TIMEOUT_MS, what);
    const json = parseJson(text);
    if (status >= 200 && status < 300) {
      if (json === undefined) throw new KubeApiError(`${what}: the answer is not JSON`, status, undefined);
      return json as T;
    }
    const st = (json ?? {}) as { reason?: string; message?: string };
    throw new KubeApiError(`${what}: ${status} ${st.reason ?? http.STATUS_CODES[status] ?? ''}${st.message ? `: ${st.message}` : ''}`, status, st.reason);
  }
}

function send(url: URL, opts: https.RequestOptions, body: Buffer | undefined, timeoutMs: number, what: string): Promise<{ status: number; text: string }> {
  const mod = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) return void req.destroy(new KubeApiError(`${what}: answer larger than ${MAX_RESPONSE_BYTES} bytes`, res.statusCode ?? 0, undefined));
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(new KubeApiError(`${what}: ${err.message}`, 0, undefined, { cause: err })));
    });
    req.on('timeout', () => req.destroy(new KubeApiError(`${what}: no answer within ${timeoutMs} ms`, 0, 'Timeout')));
    req.on('error', (err) => reject(err instanceof KubeApiError ? err : new KubeApiError(`${what}: ${err.message}`, 0, undefined, { cause: err })));
    req.end(body);
  });
}

function parseJson(text: string): unknown {
  try {
    return text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
