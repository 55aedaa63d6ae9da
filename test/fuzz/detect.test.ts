/**
 * Fuzz: protocol detection on a connection's first bytes (src/proxy/listener/
 * detect.ts) and the TLS ClientHello sniffer (tls-hello.ts). Real ClientHellos
 * from node:tls (OpenSSL) with random SNI and ALPN are read back exactly,
 * whatever prefix has arrived; mutated hellos, HTTP heads and random bytes
 * classify to a valid answer without throwing.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';
import { classify } from '../../src/proxy/listener/detect.js';
import { parseClientHello } from '../../src/proxy/listener/tls-hello.js';
import { fuzz, mutated } from './harness.js';

interface Hello { sni: string; alpn: string[]; bytes: Buffer }

/** The first flight of a real TLS client: connects to a TCP server that records and closes. */
async function realHello(sni: string, alpn: string[]): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); resolve(buf); }, 1000);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) { clearTimeout(timer); s.destroy(); resolve(buf); }
    });
  }));
  const c = tls.connect({ host: '127.0.0.1', port, ...(sni ? { servername: sni } : {}), ALPNProtocols: alpn, rejectUnauthorized: false });
  c.on('error', () => undefined);
  const bytes = await got;
  c.destroy();
  await new Promise((r) => server.close(r));
  return bytes;
}

const label = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), minLength: 1, maxLength: 20 });
const hostname = fc.array(label, { minLength: 2, maxLength: 4 }).map((l) => l.join('.'));
const alpnId = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-/.'), minLength: 1, maxLength: 30 });

const hellos: Hello[] = [];

before(async () => {
  // Real hellos are made once (a TLS handshake each); the fuzzer then mutates and splits them.
  const inputs = fc.sample(fc.tuple(fc.option(hostname, { nil: '' }), fc.uniqueArray(alpnId, { maxLength: 4 })), { numRuns: 24, seed: 7 });
  for (const [sni, alpn] of inputs) hellos.push({ sni, alpn, bytes: await realHello(sni, alpn) });
});

const hello = () => fc.constantFrom(...hellos);

test('fuzz: real ClientHellos give back their SNI and ALPN; every shorter prefix asks for more', async (t) => {
  await fuzz('tls hello (real)', fc.property(hello(), fc.nat(), (h, cutAt) => {
    const info = parseClientHello(h.bytes);
    assert.notEqual(info, 'incomplete');
    assert.notEqual(info, 'invalid');
    if (typeof info === 'string') return;
    assert.equal(info.serverName, h.sni);
    assert.deepEqual(info.alpn, h.alpn);
    const d = classify(h.bytes);
    assert.ok(d !== 'more' && d.transport === 'tls' && d.serverName === h.sni);
    const prefix = h.bytes.subarray(0, cutAt % h.bytes.length);
    assert.equal(classify(prefix), 'more');
  }), 500, t);
});

test('fuzz: mutated ClientHellos: a verdict, never an exception', async (t) => {
  await fuzz('tls hello (mutated)', fc.property(mutated(hello().map((h) => new Uint8Array(h.bytes)), 8), (bytes) => {
    const b = Buffer.from(bytes);
    const info = parseClientHello(b);
    if (typeof info !== 'string') {
      assert.equal(typeof info.serverName, 'string');
      assert.ok(info.alpn.every((a) => typeof a === 'string'));
    }
    const d = classify(b);
    assert.ok(d === 'more' || ['tls', 'raw_buffer'].includes(d.transport));
  }), 5000, t);
});

const h1Line = fc.tuple(fc.constantFrom('GET', 'POST', 'OPTIONS', 'PROPFIND', 'M-SEARCH'), fc.constantFrom('/', '/a?b=c', '*', 'http://x/y'), fc.constantFrom('1.0', '1.1'))
  .map(([m, u, v]) => new Uint8Array(Buffer.from(`${m} ${u} HTTP/${v}\r\nhost: x\r\n\r\n`)));
const preface = fc.constant(new Uint8Array(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00')));

test('fuzz: first bytes of any protocol classify without throwing; HTTP/1 and h2c are recognised', async (t) => {
  await fuzz('protocol detect', fc.property(fc.oneof(mutated(h1Line, 4), mutated(preface, 4), fc.uint8Array({ maxLength: 256 })), (bytes) => {
    const d = classify(Buffer.from(bytes));
    if (d === 'more') return;
    assert.ok(d.http === undefined || d.http === 'h1' || d.http === 'h2');
  }), 6000, t);
  for (const b of fc.sample(h1Line, { numRuns: 20, seed: 1 })) assert.equal((classify(Buffer.from(b)) as { http?: string }).http, 'h1');
  assert.equal((classify(Buffer.from(fc.sample(preface, 1)[0]!)) as { http?: string }).http, 'h2');
});
