/**
 * The node proxy's admin API (127.0.0.1 only, ztunnel's 15000): /config_dump
 * (config-dump.ts), /ready, /stats/prometheus, POST /quitquitquit, and
 * /logging as the sidecar's. Readiness is also served on --readiness-port
 * (ztunnel's 15021 /healthz/ready) for a kubelet. Anything else is 404; a
 * request it cannot serve gets an HTTP error, never an exception.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrellisError } from '../../errors.js';
import { activeLoggers, handleLogging } from '../../proxy/admin/logging.js';

export interface ZtunnelAdminDeps {
  ready(): boolean;
  configDump(): Record<string, unknown>;
  prometheus(): string;
  quit(): void;
}

const text = (res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=UTF-8') => res.writeHead(status, { 'content-type': type }).end(body);

function handle(d: ZtunnelAdminDeps, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://admin');
  const post = req.method === 'POST';
  switch (url.pathname) {
    case '/ready':
    case '/healthz/ready':
      return void (d.ready() ? text(res, 200, 'ready\n') : text(res, 503, 'not ready\n'));
    case '/config_dump':
      return void text(res, 200, JSON.stringify(d.configDump(), null, 2) + '\n', 'application/json');
    case '/stats/prometheus':
    case '/metrics':
      return void text(res, 200, d.prometheus(), 'text/plain; version=0.0.4');
    case '/logging': {
      const r = post ? handleLogging(url.searchParams) : { status: 200, body: activeLoggers() };
      return void text(res, r.status, r.body);
    }
    case '/quitquitquit':
      if (!post) return void text(res, 405, 'POST only\n');
      return void res.end('OK\n', () => d.quit());
    default:
      return void text(res, 404, `invalid path: ${url.pathname}\n`);
  }
}

/** Serves `paths` (all of them, or readiness only) on host:port. */
export function startZtunnelHttp(port: number, host: string, d: ZtunnelAdminDeps, readinessOnly = false): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://admin').pathname;
      if (readinessOnly && path !== '/healthz/ready') return void text(res, 404, `invalid path: ${path}\n`);
      handle(d, req, res);
    } catch (err) {
      text(res, 400, `bad request: ${(err as Error).message}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new TrellisError('IO', `cannot listen on ${host}:${port}`, { cause: err })));
    server.listen(port, host, () => resolve(server));
  });
}

export const boundPort = (s: http.Server): number => (s.address() as AddressInfo).port;
