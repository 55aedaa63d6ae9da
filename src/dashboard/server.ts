/**
 * The dashboard's HTTP server, on 127.0.0.1 only: the page's static files
 * (built by scripts/bundle.mjs into the bundle's dashboard/ folder — no CDN,
 * the page works offline), /api/model (what the page polls), and
 * /api/explain?from=POD&url=URL (the edge's explain, see explain-hook.ts).
 * GET only; a malformed request is a 400 and nothing a client sends can
 * crash it. A Host header other than this address or localhost is refused
 * (403): a web page elsewhere must not read the mesh through DNS rebinding.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { errorMessage, TrellisError } from '../errors.js';
import type { MeshLocator } from '../debug/locator.js';
import { explainEdgeRequest } from './explain-hook.js';
import type { DashboardModel } from './model.js';

export const DASHBOARD_HOST = '127.0.0.1';

export interface DashboardServerOptions {
  port: number;
  /** The folder with index.html, app.js and app.css. */
  staticDir: string;
  /** The model now; called per /api/model request. */
  model: () => DashboardModel;
  /** Someone is looking (each /api request): the collector keeps polling. */
  touch?: () => void;
  /** For explain; undefined answers 501 with the command. */
  mesh?: MeshLocator;
}

export interface DashboardServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const STATIC: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};

/** Everything the page loads comes from here: the browser refuses anything else (offline by construction). */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const files = new Map<string, Buffer>();
  for (const [file] of Object.values(STATIC)) {
    try {
      files.set(file, readFileSync(join(o.staticDir, file)));
    } catch (err) {
      throw new TrellisError('IO', `the dashboard's page is not built (${join(o.staticDir, file)}): run the build (scripts/bundle.mjs)`, { cause: err });
    }
  }
  let port = 0;
  const server = createServer((req, res) => {
    void handle(o, files, port, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: errorMessage(err) });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err) => reject(new TrellisError('IO', `the dashboard cannot listen on ${DASHBOARD_HOST}:${o.port}: ${errorMessage(err)}`, { cause: err })));
    server.listen(o.port, DASHBOARD_HOST, () => resolve((server.address() as AddressInfo).port));
  });
  return {
    url: `http://${DASHBOARD_HOST}:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function handle(o: DashboardServerOptions, files: Map<string, Buffer>, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  } catch {
    return sendJson(res, 400, { error: 'malformed request URL' });
  }
  const host = req.headers.host ?? '';
  if (host !== `${DASHBOARD_HOST}:${port}` && host !== `localhost:${port}`) return sendJson(res, 403, { error: `Host ${JSON.stringify(host.slice(0, 100))} is not this dashboard's address` });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendJson(res, 405, { error: `method ${req.method} not allowed` });
  }
  const page = STATIC[url.pathname];
  if (page) {
    res.writeHead(200, { 'content-type': page[1], 'content-security-policy': CSP, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    return void res.end(files.get(page[0]));
  }
  if (url.pathname === '/api/model') {
    o.touch?.();
    return sendJson(res, 200, o.model());
  }
  if (url.pathname === '/api/explain') return explain(o, url, res);
  sendJson(res, 404, { error: `no such page: ${url.pathname.slice(0, 200)}` });
}

async function explain(o: DashboardServerOptions, url: URL, res: ServerResponse): Promise<void> {
  const from = url.searchParams.get('from') ?? '';
  const target = url.searchParams.get('url') ?? '';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(from)) return sendJson(res, 400, { error: 'from: a pod, "name.namespace"' });
  if (!/^http:\/\/[^\s/]+\/\S*$/.test(target) || target.length > 2048) return sendJson(res, 400, { error: 'url: an http:// URL' });
  const command = `trellis explain --from ${from} ${target}`;
  if (!o.mesh) return sendJson(res, 501, { command, error: 'this dashboard knows no mesh to explain in: run the command' });
  const result = await explainEdgeRequest(o.mesh, { from, url: target });
  if ('error' in result) return sendJson(res, 502, { command, error: result.error });
  sendJson(res, 200, { command, explain: result.explanation, text: result.text });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  res.end(JSON.stringify(body));
}
