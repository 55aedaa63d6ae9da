import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { errorMessage, TrellisError } from '../../errors.js';
import { logger } from '../../log.js';
import type { ConfigProblem } from '../../config/config-problem.js';
import type { AnyObject } from '../../config/objects.js';
import { configz } from './configz.js';
import { exposition, type Metrics } from '../metrics/metrics.js';
import { xdsMetrics } from '../metrics/xds-metrics.js';
import type { AdsServer } from '../server/ads-server.js';
import { configDump } from './config-dump.js';

export interface DebugServerOptions {
  host: string;
  port: number;
  server: AdsServer;
  metrics: Metrics;
  configProblems: () => readonly ConfigProblem[];
  /** The accepted config objects (istiod's /debug/configz): what `trellis describe` and `tls-check` read. */
  configObjects?: () => Iterable<AnyObject>;
  /** This control plane's name in /debug/syncz (istiod's pod name; istioctl's ISTIOD column). */
  controlPlaneId?: string;
  /** Why the control plane is not ready, or undefined when it is (/ready: 503 with the reason, or 200). */
  notReady: () => string | undefined;
}

export interface DebugServer {
  port: number;
  close(): Promise<void>;
}

const log = logger('debug');

/**
 * The control plane's debug and metrics HTTP endpoint (istiod's :15014):
 * /debug/syncz, /debug/config_dump?proxyID=, /debug/config_problems,
 * /debug/configz, /metrics, /ready. Every handler failure becomes a JSON 500; nothing a
 * client sends can take the process down.
 */
export async function startDebugServer(opts: DebugServerOptions): Promise<DebugServer> {
  const server = createServer((req, res) => {
    try {
      route(opts, req, res);
    } catch (err) {
      log.error('debug handler failed', { url: req.url, error: errorMessage(err) });
      if (!res.headersSent) sendJson(res, 500, { error: errorMessage(err) });
      else res.destroy();
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err) => reject(new TrellisError('IO', `debug server cannot listen on ${opts.host}:${opts.port}`, { cause: err })));
    server.listen(opts.port, opts.host, () => resolve((server.address() as AddressInfo).port));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function route(opts: DebugServerOptions, req: IncomingMessage, res: ServerResponse): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://debug.invalid');
  } catch {
    return sendJson(res, 400, { error: 'malformed request URL' });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, { error: `method ${req.method} not allowed` });
    return;
  }
  switch (url.pathname) {
    case '/debug/syncz':
      return sendJson(res, 200, opts.server.syncStatus().map((p) => ({ ...p, controlPlane: opts.controlPlaneId ?? hostname() })));
    case '/debug/configz':
      return sendJson(res, 200, configz(opts.configObjects?.() ?? []));
    case '/debug/config_dump':
      return configDumpHandler(opts, url, res);
    case '/debug/config_problems':
      return sendJson(res, 200, opts.configProblems());
    case '/metrics':
      return metricsHandler(opts, res);
    case '/ready': {
      const reason = opts.notReady();
      return send(res, reason === undefined ? 200 : 503, 'text/plain; charset=utf-8', reason === undefined ? 'ready\n' : `not ready: ${reason}\n`);
    }
    default:
      return sendJson(res, 404, { error: `unknown path ${url.pathname}` });
  }
}

function configDumpHandler(opts: DebugServerOptions, url: URL, res: ServerResponse): void {
  const id = url.searchParams.get('proxyID');
  if (!id) return sendJson(res, 400, { error: 'query parameter proxyID is required' });
  const conn = opts.server.findProxy(id);
  if (!conn) return sendJson(res, 404, { error: `proxy ${id} is not connected` });
  sendJson(res, 200, configDump(conn));
}

function metricsHandler(opts: DebugServerOptions, res: ServerResponse): void {
  const problems = opts.configProblems().length;
  const m = xdsMetrics(opts.metrics);
  m.configProblems.set(problems);
  send(res, 200, exposition, opts.metrics.expose());
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  send(res, code, 'application/json', JSON.stringify(body, null, 2) + '\n');
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
