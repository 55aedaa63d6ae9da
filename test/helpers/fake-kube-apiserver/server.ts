/**
 * A TEST DOUBLE of kube-apiserver — not a Kubernetes API server. No real
 * one can be installed here, so this serves the part of the REST protocol
 * Trellis uses, over HTTPS with bearer-token authentication, as the real
 * server speaks it on the wire:
 *   - GET collection: a list with resourceVersion, paged with limit/continue (list.ts);
 *   - GET collection ?watch=true|1: a chunked stream of {type, object} lines with
 *     resourceVersion, allowWatchBookmarks, timeoutSeconds, and 410 Expired as
 *     an ERROR event carrying a Status (watch.ts);
 *   - GET/POST/PUT/DELETE of one object with optimistic concurrency (409
 *     Conflict on a stale resourceVersion, 409 AlreadyExists, 404 NotFound) and
 *     PUT .../status (store.ts);
 *   - POST tokenreviews (token-review.ts).
 * Tests drive it directly (store writes, compaction, dropping every open
 * watch mid-stream) to make the situations a real cluster makes rarely.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestPki } from '../pki.js';
import { defForKind } from './kinds.js';
import { Lister } from './list.js';
import { present } from './present.js';
import { parseRoute, type Route } from './routes.js';
import { ApiFailure, badRequest, failure, type Status } from './status.js';

export type { Status };
import { Store, type StoredObject } from './store.js';
import { reviewToken, type KnownToken } from './token-review.js';
import { serveWatch } from './watch.js';

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface FakeApiServerOptions {
  /** How often an open watch with allowWatchBookmarks gets a BOOKMARK (default 1 s). */
  bookmarkIntervalMs?: number;
}

/** One request as the double saw it (tests assert on the protocol the client spoke). */
export interface SeenRequest {
  /** When it arrived (ms epoch). */
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
}

export class FakeKubeApiServer {
  readonly store = new Store();
  readonly requests: SeenRequest[] = [];
  /** Bearer tokens TokenReview knows (service-account tokens). */
  readonly tokens = new Map<string, KnownToken>();
  /** Set by a test: new watches get their headers and then nothing at all, and never end (a half-open connection). */
  stallWatches = false;
  /** Set by a test: a Status to fail a request with (an outage, a CRD not installed), or undefined to serve it. */
  fault: ((r: SeenRequest) => Status | undefined) | undefined;
  /** The token a kubeconfig for this server carries; any other gets 401. */
  readonly adminToken = randomBytes(16).toString('hex');
  readonly #lister = new Lister(this.store);
  readonly #watches = new Set<ServerResponse>();
  readonly #server: Server;
  readonly #pki: TestPki;
  readonly #dir: string;
  readonly #bookmarkIntervalMs: number;
  #port = 0;

  private constructor(o: FakeApiServerOptions) {
    this.#bookmarkIntervalMs = o.bookmarkIntervalMs ?? 1000;
    this.#pki = new TestPki('fake kube-apiserver CA');
    this.#dir = mkdtempSync(join(tmpdir(), 'trellis-fake-kube-'));
    const leaf = this.#pki.leaf('spiffe://cluster.local/ns/default/sa/kube-apiserver', { dns: ['localhost', 'kubernetes.default.svc'], ips: ['127.0.0.1'] });
    this.#server = createServer({ cert: leaf.cert, key: leaf.key }, (req, res) => this.#handle(req, res));
  }

  static async start(o: FakeApiServerOptions = {}): Promise<FakeKubeApiServer> {
    const s = new FakeKubeApiServer(o);
    await new Promise<void>((resolve, reject) => s.#server.once('error', reject).listen(0, '127.0.0.1', resolve));
    s.#port = (s.#server.address() as { port: number }).port;
    return s;
  }

  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  get caPem(): string {
    return this.#pki.ca.cert;
  }

  /** A kubeconfig file for this server (token authentication, the server's CA), in the double's temporary directory. */
  writeKubeconfig(name = 'kubeconfig', namespace = 'istio-system'): string {
    const path = join(this.#dir, name);
    writeFileSync(path, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: this.url, 'certificate-authority-data': Buffer.from(this.caPem).toString('base64') } }],
      users: [{ name: 'admin', user: { token: this.adminToken } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'admin', namespace } }],
      'current-context': 'fake',
    }));
    return path;
  }

  /** Creates the object, or replaces it unconditionally when it exists (kubectl apply, roughly). */
  apply(obj: StoredObject): StoredObject {
    const def = defForKind(String(obj.kind));
    const ns = def.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const body = { ...obj, metadata: { ...obj.metadata } };
    delete body.metadata.resourceVersion;
    try {
      this.store.get(def, ns, obj.metadata.name);
    } catch {
      return this.store.create(def, ns, body);
    }
    return this.store.update(def, ns, obj.metadata.name, body);
  }

  /** Writes an object's status as a kubelet or controller would (PUT .../status); a Pod is created Pending otherwise. */
  setStatus(kind: string, namespace: string | undefined, name: string, status: unknown): StoredObject {
    return this.store.updateStatus(defForKind(kind), namespace, name, { metadata: { name }, status });
  }

  /** apply() and, when the object carries one, its status. */
  applyWithStatus(obj: StoredObject): StoredObject {
    const written = this.apply(obj);
    if (obj.status === undefined) return written;
    const def = defForKind(String(obj.kind));
    return this.setStatus(String(obj.kind), def.namespaced ? (obj.metadata.namespace ?? 'default') : undefined, obj.metadata.name, obj.status);
  }

  remove(kind: string, namespace: string | undefined, name: string): void {
    this.store.delete(defForKind(kind), namespace, name);
  }

  /** Cuts every open watch mid-stream (the TCP connection is destroyed, no final chunk). */
  dropWatches(): number {
    const n = this.#watches.size;
    for (const res of [...this.#watches]) res.socket?.destroy();
    return n;
  }

  /** Watch and list requests so far for a collection path (e.g. "/api/v1/services"). */
  count(path: string, kind: 'watch' | 'list'): number {
    return this.requests.filter((r) => r.method === 'GET' && r.path === path && (kind === 'watch') === isWatch(r.query)).length;
  }

  async close(): Promise<void> {
    for (const res of this.#watches) res.socket?.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#pki.remove();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://x');
    this.requests.push({ at: Date.now(), method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams) });
    if (req.headers.authorization !== `Bearer ${this.adminToken}`) {
      return sendStatus(res, failure(401, 'Unauthorized', 'Unauthorized').status);
    }
    const injected = this.fault?.(this.requests.at(-1)!);
    if (injected) return sendStatus(res, injected);
    readBody(req).then((body) => this.#dispatch(req, res, url, body)).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof ApiFailure) return sendStatus(res, err.status);
      sendStatus(res, failure(500, 'InternalError', `fake kube-apiserver: ${String(err)}`).status);
    });
  }

  #dispatch(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown): void {
    const route = parseRoute(url.pathname);
    const { def, version, namespace, name, subresource } = route;
    const q = url.searchParams;
    const ok = (code: number, obj: StoredObject) => sendJson(res, code, present(def, version, obj));
    switch (req.method) {
      case 'GET':
        if (name !== undefined) return ok(200, this.store.get(def, namespace, name));
        if (isWatch(Object.fromEntries(q))) return this.#watch(route, q, req, res);
        return sendJson(res, 200, this.#lister.list(route, q));
      case 'POST':
        if (name !== undefined) throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        if (def.virtual) return sendJson(res, 201, reviewToken(body, this.tokens));
        return ok(201, this.store.create(def, namespace, objectBody(body)));
      case 'PUT':
        if (name === undefined) throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        if (subresource === 'status') return ok(200, this.store.updateStatus(def, namespace, name, objectBody(body)));
        return ok(200, this.store.update(def, namespace, name, objectBody(body)));
      case 'DELETE':
        if (name === undefined) throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        return ok(200, this.store.delete(def, namespace, name));
      default:
        throw failure(405, 'MethodNotAllowed', `the test double does not implement ${req.method}`);
    }
  }

  #watch(route: Route, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    if (this.stallWatches) {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      this.#watches.add(res);
      res.on('close', () => this.#watches.delete(res));
      return;
    }
    serveWatch(this.store, route, q, res, req, {
      bookmarkIntervalMs: this.#bookmarkIntervalMs,
      track: (r) => {
        this.#watches.add(r);
        return () => this.#watches.delete(r);
      },
    });
  }
}

function isWatch(query: Record<string, string>): boolean {
  return query.watch === 'true' || query.watch === '1';
}

function objectBody(body: unknown): StoredObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as StoredObject).metadata !== 'object') {
    throw badRequest('the body is not an object with metadata');
  }
  return body as StoredObject;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) return void reject(failure(413, 'RequestEntityTooLarge', 'the request is too large'));
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(badRequest('the body is not JSON'));
      }
    });
  });
}

function sendJson(res: ServerResponse, code: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, st: Status): void {
  sendJson(res, st.code, st);
}
