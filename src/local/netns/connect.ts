/**
 * Reaching an address inside a pod's (or the node's) network namespace from
 * the process that made the cluster, without spawning anything into it: the
 * socket is created in the namespace (native socketInNetns) and used from
 * here. How `trellis up` reads each proxy's admin API (127.0.0.1:15000 in
 * its pod), probes apps, and relays the node's control plane to the
 * machine's loopback. Without a namespace these are plain connections, which
 * is what loopback mode uses.
 */
import { request } from 'node:http';
import { Socket } from 'node:net';
import { TrellisError, errorMessage } from '../../errors.js';
import { socketInNetns } from '../../native/netns-socket.js';

/** A connecting socket to host:port, from inside `netns` (a name under /var/run/netns) when given. */
export function connectIn(netns: string | undefined, host: string, port: number): Socket {
  if (netns === undefined) return new Socket().connect(port, host);
  const fd = socketInNetns(`/var/run/netns/${netns}`);
  return new Socket({ fd, readable: true, writable: true }).connect(port, host);
}

export interface HttpReply {
  status: number;
  body: string;
}

/** Longest body read: admin pages (config_dump) can be large, but not unbounded. */
const MAX_BODY = 32 * 1024 * 1024;

/**
 * One HTTP request to `address` ("HOST:PORT") from inside `netns`; rejects
 * with an IO TrellisError on a connection error or after `timeoutMs`.
 */
export function httpIn(netns: string | undefined, address: string, path: string, opts: { method?: string; timeoutMs?: number } = {}): Promise<HttpReply> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  const timeoutMs = opts.timeoutMs ?? 3000;
  return new Promise((resolve, reject) => {
    let socket: Socket;
    try {
      socket = connectIn(netns, host, port);
    } catch (err) {
      reject(new TrellisError('IO', `${address}${path}${netns ? ` in ${netns}` : ''}: ${errorMessage(err)}`, { cause: err }));
      return;
    }
    const req = request({ host, port, path, method: opts.method ?? 'GET', createConnection: () => socket, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error(`body larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', () => undefined);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(new TrellisError('IO', `${address}${path}${netns ? ` in ${netns}` : ''}: ${errorMessage(err)}`, { cause: err }));
    });
    req.end();
  });
}

/** Resolves true when host:port accepts a TCP connection within `timeoutMs` (a tcpSocket probe). */
export function tcpOpenIn(netns: string | undefined, host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let s: Socket;
    try {
      s = connectIn(netns, host, port);
    } catch {
      resolve(false);
      return;
    }
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
