/**
 * The cost of a new mTLS connection at the server side of a hop: many
 * clients, each a fresh TLS connection with a client certificate, one HTTP
 * request, then close — what a sidecar pays when a peer's pool grows or
 * reconnects. The load runs here (pinned to the load core); the caller reads
 * the server's CPU around it.
 */
import tls from 'node:tls';
import type { Pem } from '../../test/helpers/pki.js';

export interface HandshakeResult {
  connections: number;
  errors: number;
  seconds: number;
}

function one(port: number, client: Pem, ca: string, alpn: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, cert: client.cert, key: client.key, ca, ALPNProtocols: alpn, checkServerIdentity: () => undefined });
    let got = '';
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), 5000);
    s.on('secureConnect', () => s.write('GET /hs HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n'));
    s.on('data', (c: Buffer) => { got += c.toString('latin1'); });
    s.on('end', () => { clearTimeout(timer); done(/^HTTP\/1\.1 200 /.test(got)); });
    s.on('error', () => { clearTimeout(timer); done(false); });
  });
}

/** `concurrency` loops of connect → request → close for `seconds`. */
export async function handshakeLoad(port: number, client: Pem, ca: string, seconds: number, concurrency = 8, alpn = ['istio-peer-exchange', 'istio']): Promise<HandshakeResult> {
  const end = Date.now() + seconds * 1000;
  let connections = 0;
  let errors = 0;
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      if (await one(port, client, ca, alpn)) connections++;
      else errors++;
    }
  }));
  return { connections, errors, seconds: (Date.now() - start) / 1000 };
}
