/**
 * Running one of the app's original probes on the kubelet's behalf (Istio's
 * status server): an HTTP(S) GET, a TCP connect, or a gRPC health check
 * against the app, answered as the kubelet reads answers — the app's status
 * for HTTP (a redirect counts as success, as the kubelet counts it), 200 or
 * 500 for TCP and gRPC. The proxy runs as uid 1337, so these connections are
 * not captured and reach the app directly, as the kubelet's would have.
 */
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import type { AppProber } from './app-probers.js';

export interface ProbeAnswer {
  status: number;
  body: string;
}

/** Kubernetes' default probe timeout. */
const DEFAULT_TIMEOUT_S = 1;
/** As Istio: at most this much of the app's answer is passed on. */
const MAX_BODY = 10 * 1024;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'content-length']);

export interface ProbeRequest {
  /** Where the app is: the prober's host, else the pod's IP, else loopback. */
  destination: string;
  /** The kubelet's request headers, forwarded to an HTTP probe. */
  headers?: http.IncomingHttpHeaders;
}

const fail = (body: string): ProbeAnswer => ({ status: 500, body });

export function runProbe(p: AppProber, req: ProbeRequest): Promise<ProbeAnswer> {
  const timeoutMs = Math.max(1, p.timeoutSeconds || DEFAULT_TIMEOUT_S) * 1000;
  if (p.httpGet) return httpProbe(p.httpGet, p.httpGet.host || req.destination, req.headers ?? {}, timeoutMs);
  if (p.tcpSocket) return tcpProbe(p.tcpSocket.host || req.destination, p.tcpSocket.port, timeoutMs);
  if (p.grpc) return grpcProbe(req.destination, p.grpc.port, p.grpc.service ?? '', timeoutMs);
  return Promise.resolve(fail('no probe action'));
}

function httpProbe(g: NonNullable<AppProber['httpGet']>, host: string, incoming: http.IncomingHttpHeaders, timeoutMs: number): Promise<ProbeAnswer> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(incoming)) if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'host') headers[k] = v;
  for (const h of g.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  const path = g.path ? (g.path.startsWith('/') ? g.path : `/${g.path}`) : '/';
  const secure = g.scheme === 'HTTPS';
  return new Promise((resolve) => {
    // The kubelet does not verify an HTTPS probe's certificate; neither does its stand-in.
    const req = (secure ? https : http).request({ host, port: g.port, path, method: 'GET', headers, timeout: timeoutMs, agent: false, ...(secure ? { rejectUnauthorized: false } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c.subarray(0, MAX_BODY - size));
        size += c.length;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 500;
        resolve({ status: status >= 300 && status < 400 ? 200 : status, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => resolve(fail(err.message)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(fail(`probe of ${host}:${g.port}${path} failed: ${err.message}`)));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (a: ProbeAnswer) => {
      s.destroy();
      resolve(a);
    };
    s.setTimeout(timeoutMs, () => done(fail(`no connection to ${host}:${port} within ${timeoutMs} ms`)));
    s.once('connect', () => done({ status: 200, body: '' }));
    s.once('error', (err) => done(fail(`connect to ${host}:${port} failed: ${err.message}`)));
  });
}

/** grpc.health.v1.HealthCheckRequest{service}: field 1, length-delimited (names are short: one length byte suffices up to 127). */
function healthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8').subarray(0, 127);
  const msg = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(msg.length, 1);
  return Buffer.concat([frame, msg]);
}

/** HealthCheckResponse.status (field 1, varint) from a gRPC message frame; SERVING is 1. */
function servingStatus(body: Buffer): number | undefined {
  if (body.length < 5) return undefined;
  const msg = body.subarray(5, 5 + body.readUInt32BE(1));
  return msg[0] === 0x08 ? msg[1] : 0;
}

/** grpc-message is percent-encoded; an app that encodes it badly still gets its probe answered. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const authority = `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    const session = http2.connect(authority);
    let settled = false;
    const done = (a: ProbeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => done(fail(`no gRPC health answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    session.on('error', (err) => done(fail(`gRPC health check of ${host}:${port} failed: ${err.message}`)));
    const stream = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    // A refusal may come as trailers or, trailers-only, in the response headers.
    const status = (h: http2.IncomingHttpHeaders) => {
      const code = Number(h['grpc-status'] ?? 0);
      if (code !== 0) done(fail(`gRPC health check: status ${code} ${safeDecode(String(h['grpc-message'] ?? ''))}`));
    };
    stream.on('response', status);
    stream.on('trailers', status);
    stream.on('end', () => {
      const s = servingStatus(Buffer.concat(chunks));
      done(s === 1 ? { status: 200, body: '' } : fail(`gRPC health check: serving status ${s ?? 'missing'}`));
    });
    stream.on('error', (err) => done(fail(`gRPC health check of ${host}:${port} failed: ${err.message}`)));
    stream.end(healthRequest(service));
  });
}
