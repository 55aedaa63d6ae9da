/**
 * Fuzz: the HTTP/1.1 body decoder (src/proxy/codec/h1/body.ts). Valid chunked
 * encodings decode to their data however the bytes are split; any bytes near
 * them give the same outcome split or whole — the same data, then done, an
 * error (HeadError only) or a wait for more — so a peer cannot steer the
 * decoder by choosing packet boundaries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BodyDecoder } from '../../src/proxy/codec/h1/body.js';
import { HeadError } from '../../src/proxy/codec/h1/head.js';
import { cut, fuzz, mutated, splits } from './harness.js';

const chunkExt = fc.constantFrom('', ';a', ';a=b', ';name="quoted"', ' ;x', '\t;y=1');
const trailer = fc.constantFrom('', 'x-t: 1\r\n', 'a: b\r\nc: d\r\n');
const hexCase = fc.boolean();

/** A chunked body: the data, and its encoding with random chunk sizes, extensions and trailers. */
const chunked = fc.record({
  pieces: fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }),
  exts: fc.array(chunkExt, { minLength: 9, maxLength: 9 }),
  trailer,
  upper: hexCase,
}).map(({ pieces, exts, trailer: tr, upper }) => {
  const parts: Buffer[] = [];
  pieces.forEach((p, i) => {
    const size = p.length.toString(16);
    parts.push(Buffer.from(`${upper ? size.toUpperCase() : size}${exts[i]}\r\n`), Buffer.from(p), Buffer.from('\r\n'));
  });
  parts.push(Buffer.from(`0${exts[8]}\r\n${tr}\r\n`));
  return { data: Buffer.concat(pieces.map((p) => Buffer.from(p))), encoded: Buffer.concat(parts) };
});

type Outcome = { data: string; state: 'done' | 'more' | 'error'; consumed: number };

/** Feeds the pieces one by one as the server connection does, stopping at done or at the first error. */
function decode(pieces: Buffer[], kind: 'chunked' | 'length', length = 0): Outcome {
  const dec = new BodyDecoder(kind === 'chunked' ? { kind } : { kind, length });
  const out: Buffer[] = [];
  let consumed = 0;
  try {
    for (const p of pieces) {
      consumed += dec.push(p, 0, p.length, (c) => out.push(Buffer.from(c)));
      if (dec.done) break;
    }
  } catch (err) {
    assert.ok(err instanceof HeadError, `not a HeadError: ${String(err)}`);
    return { data: Buffer.concat(out).toString('hex'), state: 'error', consumed: -1 };
  }
  return { data: Buffer.concat(out).toString('hex'), state: dec.done ? 'done' : 'more', consumed };
}

test('fuzz: valid chunked bodies decode to their data, however split, and stop at their end', async (t) => {
  await fuzz('h1 chunked (valid)', fc.property(chunked, splits(), fc.uint8Array({ maxLength: 8 }), ({ data, encoded }, at, extra) => {
    const withNext = Buffer.concat([encoded, Buffer.from(extra)]);
    const r = decode(cut(withNext, at), 'chunked');
    assert.equal(r.state, 'done');
    assert.equal(r.data, data.toString('hex'));
  }), 3000, t);
});

test('fuzz: mutated chunked bodies: the same outcome split or whole', async (t) => {
  await fuzz('h1 chunked (mutated)', fc.property(mutated(chunked.map((c) => c.encoded), 6), splits(), (bytes, at) => {
    const whole = decode([Buffer.from(bytes)], 'chunked');
    const split = decode(cut(bytes, at), 'chunked');
    assert.equal(split.state, whole.state);
    if (whole.state !== 'error') assert.equal(split.data, whole.data);
  }), 6000, t);
});

test('fuzz: length-delimited bodies take exactly their length', async (t) => {
  await fuzz('h1 length body', fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(700), splits(), (bytes, length, at) => {
    const r = decode(cut(bytes, at), 'length', Math.max(1, length));
    const n = Math.min(bytes.length, Math.max(1, length));
    assert.equal(r.data, Buffer.from(bytes.subarray(0, n)).toString('hex'));
    assert.equal(r.state, bytes.length >= Math.max(1, length) ? 'done' : 'more');
  }), 3000, t);
});
