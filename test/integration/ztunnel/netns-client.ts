/**
 * Test helper (not a test): connections made the node proxy's way, from
 * this process into a pod's network namespace with the native addon —
 * SO_MARK on the socket and, with a source address, IP_TRANSPARENT and a
 * bind to it (the caller's address, kept) — reading what the peer answers
 * (an identity server's JSON line, or an echo).
 */
import { Socket } from 'node:net';
import { closeFd, openNetns, socketFromNetns } from '../../../src/native/netns-socket.js';

export const netnsPath = (netns: string) => `/var/run/netns/${netns}`;

/** Connects from inside `netns` and returns everything the peer sent before closing (or {error}), within 3 s. */
export async function readFrom(netns: string, host: string, port: number, opts: { mark?: number; sourceIp?: string; send?: string } = {}): Promise<string | { error: string }> {
  const ns = openNetns(netnsPath(netns));
  let fd: number;
  try {
    fd = socketFromNetns(ns, opts);
  } finally {
    closeFd(ns);
  }
  return new Promise((resolve) => {
    const s = new Socket({ fd, readable: true, writable: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(new Error('no answer within 3 s')), 3000);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (err) => {
      clearTimeout(timer);
      resolve({ error: err.message });
    });
    s.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8').trim());
    });
    s.connect(port, host, () => {
      if (opts.send !== undefined) s.end(opts.send);
    });
  });
}

/** The JSON an identity server answered, or {error}. */
export async function identityFrom(netns: string, host: string, port: number, opts: { mark?: number; sourceIp?: string } = {}): Promise<Record<string, unknown>> {
  const r = await readFrom(netns, host, port, opts);
  if (typeof r !== 'string') return r;
  try {
    return JSON.parse(r.split('\n').pop() ?? '') as Record<string, unknown>;
  } catch {
    return { error: `not JSON: ${r}` };
  }
}
