/**
 * What the HBONE tests share: a throwaway mesh CA with SPIFFE leaves (a
 * server, a client, a client of another trust domain), upstream TCP servers
 * on 127.0.0.1 (one that answers only after the caller's FIN, so a reply
 * proves half-close; one that echoes), a port nobody listens on, and the
 * Debian python3 that has the h2 library.
 */
import { createHash } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { freePort } from './ports.js';
import { spiffe, TestPki, type Pem } from './pki.js';
import type { WorkloadCertificate } from '../../src/ztunnel/hbone/workload-tls.js';

export const SERVER_ID = spiffe('ambient', 'server');
export const CLIENT_ID = spiffe('ambient', 'client');

export interface HbonePeers {
  pki: TestPki;
  server: Pem;
  client: Pem;
  /** Signed by the same CA but for spiffe://other.domain/...: a server of cluster.local must refuse it. */
  foreign: Pem;
  /** Answers "<bytes> <sha256>\n" once the caller's FIN arrived, then closes its side. */
  summarize: { port: number };
  /** Says "first\n" and ends at once, then still reads: `received()` is what the caller sent after that FIN, up to its own. */
  speakFirst: { port: number; received(): Promise<string> };
  /** Echoes every byte; ends when the caller ends. */
  echo: { port: number };
  /** Nothing listens there: a dial gets ECONNREFUSED. */
  refusedPort: number;
  workload(p: Pem): WorkloadCertificate;
  close(): Promise<void>;
}

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));

export async function hbonePeers(): Promise<HbonePeers> {
  const pki = new TestPki('trellis hbone test CA');
  const sockets = new Set<Socket>();
  const track = (s: Socket) => (sockets.add(s), s.once('close', () => sockets.delete(s)), s.on('error', () => undefined));
  const summarize = createServer({ allowHalfOpen: true }, (s) => {
    track(s);
    const hash = createHash('sha256');
    let n = 0;
    s.on('data', (d: Buffer) => ((n += d.length), hash.update(d)));
    s.on('end', () => s.end(`${n} ${hash.digest('hex')}\n`));
  });
  const echo = createServer({ allowHalfOpen: true }, (s) => (track(s), s.pipe(s)));
  const heard: Array<(text: string) => void> = [];
  const speakFirst = createServer({ allowHalfOpen: true }, (s) => {
    track(s);
    s.end('first\n');
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('end', () => heard.shift()?.(text));
  });
  const [summarizePort, echoPort, speakFirstPort] = [await listen(summarize), await listen(echo), await listen(speakFirst)];
  return {
    pki,
    server: pki.leaf(SERVER_ID),
    client: pki.leaf(CLIENT_ID),
    foreign: pki.leaf('spiffe://other.domain/ns/ambient/sa/client'),
    summarize: { port: summarizePort },
    echo: { port: echoPort },
    speakFirst: { port: speakFirstPort, received: () => new Promise((resolve) => heard.push(resolve)) },
    refusedPort: await freePort(),
    workload: (p) => ({ cert: p.cert, key: p.key, ca: pki.ca.cert }),
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([summarize, echo, speakFirst].map((s) => new Promise((r) => s.close(r))));
      pki.remove();
    },
  };
}

/** "<bytes> <sha256>\n" for `data`, as the summarize upstream answers. */
export const summary = (data: Buffer): string => `${data.length} ${createHash('sha256').update(data).digest('hex')}\n`;

/** A python3 with the h2 library (Debian's python3-h2), or undefined: Debian's first, a PATH one may be another install. */
export function pythonWithH2(): string | undefined {
  return ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import h2'], { stdio: 'ignore', timeout: 10_000 }).status === 0);
}

/** Everything the tunnel returns until its end, with a bound on the wait. */
export function readAll(t: Duplex, ms = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`tunnel did not end in ${ms} ms`)), ms);
    t.on('data', (d: Buffer) => chunks.push(d));
    t.once('end', () => (clearTimeout(timer), resolve(Buffer.concat(chunks))));
    t.once('error', (e) => (clearTimeout(timer), reject(e)));
  });
}

const fixtures = fileURLToPath(new URL('../../../test/fixtures/hbone/', import.meta.url));

/** test/fixtures/hbone/hbone_client.py's one JSON line (bounded: the fixture's socket timeout, then ours). */
export function pyHboneClient(python: string, pem: { certFile: string; keyFile: string }, ca: string, port: number, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(python, [`${fixtures}hbone_client.py`, '--port', String(port), '--cert', pem.certFile, '--key', pem.keyFile, '--ca', ca, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Record<string, unknown>));
  });
}
