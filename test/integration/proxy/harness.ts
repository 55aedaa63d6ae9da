/** Starts the real `trellis proxy` binary and local backends for integration tests; everything is closed by the caller. */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const MAIN = fileURLToPath(new URL('../../../bundle/main.js', import.meta.url));

export interface RunningProxy {
  proc: ChildProcess;
  adminPort: number;
  /** Everything the proxy wrote to stdout (access logs) so far. */
  stdout(): string;
  stderr(): string;
  admin(path: string, method?: 'GET' | 'POST'): Promise<{ status: number; body: string }>;
  listenerPort(name: string): Promise<number>;
  /** Waits (5 s at most) until /ready answers 200: the first config is applied. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export async function startProxy(adsPort: number, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningProxy> {
  const proc = spawn(process.execPath, [MAIN, 'proxy', '--xds-address', `127.0.0.1:${adsPort}`, '--node-id', 'sidecar~127.0.0.1~test-pod.default~default.svc.cluster.local', '--admin-port', '0', '--drain-seconds', '1', ...extra], {
    env: { ...process.env, ISTIO_META_WORKLOAD_NAME: 'test-client', ISTIO_META_NAMESPACE: 'default', TRELLIS_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const adminPort = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`proxy did not start: ${err}`)), 10_000);
    const check = () => {
      const m = /admin listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        proc.stdout!.off('data', check);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`proxy exited with ${code}: ${err}`)); });
  });
  const admin = async (path: string, method: 'GET' | 'POST' = 'GET') => {
    const r = await request(`http://127.0.0.1:${adminPort}${path}`, { method });
    return { status: r.statusCode, body: await r.body.text() };
  };
  return {
    proc,
    adminPort,
    stdout: () => out,
    stderr: () => err,
    admin,
    async ready() {
      await eventually(async () => (await admin('/ready')).status === 200, 5000, 'proxy ready');
    },
    async listenerPort(name) {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const j = JSON.parse((await admin('/listeners?format=json')).body) as { listener_statuses: Array<{ name: string; local_address: { socket_address: { port_value: number } } }> };
        const l = j.listener_statuses.find((x) => x.name === name);
        if (l && l.local_address.socket_address.port_value !== 0) return l.local_address.socket_address.port_value;
        await sleep(25);
      }
      throw new Error(`listener ${name} not bound`);
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A proxy on the ADS server at `adsPort`, its first config applied, and the bound port of its listener `listener`. */
export async function startProxyListening(adsPort: number, listener = 'http'): Promise<{ proxy: RunningProxy; port: number }> {
  const proxy = await startProxy(adsPort);
  await proxy.ready();
  return { proxy, port: await proxy.listenerPort(listener) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; fails after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000, what: string | (() => string) = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}${last ? `: ${String(last)}` : ''}`);
}

export interface Backend {
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

export async function startBackend(handler: http.RequestListener, options: http.ServerOptions = {}): Promise<Backend> {
  const server = http.createServer(options, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A backend answering 200 with its name and the request headers it saw, as JSON. */
export function echoBackend(name: string): Promise<Backend> {
  return startBackend((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.end(JSON.stringify({ name, path: req.url, headers: req.headers }));
    });
  });
}

/** What startServed and closeServed need of the fake ADS server. */
interface AdsLike {
  readonly port: number;
  start(): Promise<unknown>;
  stop(): void;
}

/** The usual before(): the ADS server (its resources set) started, then the proxy, ready, and the port of `listener`. */
export async function startServed(ads: AdsLike, listener: string, extra: string[] = []): Promise<{ proxy: RunningProxy; port: number }> {
  await ads.start();
  const proxy = await startProxy(ads.port, extra);
  await proxy.ready();
  return { proxy, port: await proxy.listenerPort(listener) };
}

/** The usual after(): the client, the proxy, the ADS server and the backends closed, whatever of them started. */
export async function closeServed(agent: { close(): Promise<void> }, proxy: RunningProxy | undefined, ads: AdsLike, backends: readonly Backend[]): Promise<void> {
  await agent.close();
  await proxy?.stop();
  ads.stop();
  await Promise.all(backends.map((b) => b.close()));
}
