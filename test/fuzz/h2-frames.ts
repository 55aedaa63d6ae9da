/**
 * HTTP/2 frames for fuzzing (RFC 9113 §4.1, HPACK literals per RFC 7541 §6.2):
 * structured arbitraries of frame sequences a hostile client could send —
 * right and wrong types, flags, stream ids, lengths and header blocks.
 */
import fc from 'fast-check';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream >>> 0, 5);
  return Buffer.concat([h, payload]);
}

/** An HPACK integer with an n-bit prefix. */
function hpackInt(value: number, prefixBits: number, firstByte = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByte | value];
  const out = [firstByte | max];
  let v = value - max;
  while (v >= 128) { out.push((v % 128) + 128); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}

/** A header block of literal fields without indexing (new names), no Huffman. */
export function headerBlock(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  // Pieces, not one spread array: a value of 100 KB would overflow the call stack.
  const out: Buffer[] = [];
  for (const [n, v] of fields) {
    out.push(Buffer.from([0x00, ...hpackInt(Buffer.byteLength(n, 'latin1'), 7)]), Buffer.from(n, 'latin1'));
    out.push(Buffer.from(hpackInt(Buffer.byteLength(v, 'latin1'), 7)), Buffer.from(v, 'latin1'));
  }
  return Buffer.concat(out);
}

const streamId = fc.oneof(fc.constantFrom(0, 1, 3, 5, 2, 0x7fffffff), fc.nat());
const field = fc.tuple(
  fc.oneof(fc.constantFrom(':method', ':path', ':scheme', ':authority', ':status', 'content-length', 'te', 'connection', 'host', 'x-a'), fc.string({ maxLength: 12 })),
  fc.oneof(fc.constantFrom('GET', 'POST', '/', 'http', 'x', '0', '5', 'trailers', ''), fc.string({ maxLength: 20 })),
);
const validRequest = (stream: number, end: boolean) => frame(1, end ? 0x05 : 0x04, stream, headerBlock([[':method', end ? 'GET' : 'POST'], [':scheme', 'http'], [':path', '/h2'], [':authority', 'fuzz']]));

/** One frame: mostly well-formed of each type, sometimes anything at all. */
export const anyFrame: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(streamId, fc.boolean()).map(([s, end]) => validRequest(s | 1, end)),
  fc.tuple(fc.nat(255), streamId, fc.array(field, { maxLength: 6 })).map(([flags, s, fs]) => frame(1, flags, s, headerBlock(fs))),
  fc.tuple(fc.nat(255), streamId, fc.uint8Array({ maxLength: 64 })).map(([flags, s, p]) => frame(0, flags, s, Buffer.from(p))),
  fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.nat(9), fc.nat()), { maxLength: 4 })).map(([ack, ps]) => {
    const p = Buffer.alloc(ps.length * 6);
    ps.forEach(([id, v], i) => { p.writeUInt16BE(id, i * 6); p.writeUInt32BE(v >>> 0, i * 6 + 2); });
    return frame(4, ack ? 1 : 0, 0, ack ? Buffer.alloc(0) : p);
  }),
  fc.tuple(streamId, fc.nat()).map(([s, code]) => { const p = Buffer.alloc(4); p.writeUInt32BE(code >>> 0); return frame(3, 0, s, p); }),
  fc.tuple(streamId, fc.nat()).map(([s, inc]) => { const p = Buffer.alloc(4); p.writeUInt32BE(inc >>> 0); return frame(8, 0, s, p); }),
  fc.tuple(fc.boolean(), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([ack, p]) => frame(6, ack ? 1 : 0, 0, Buffer.from(p))),
  fc.tuple(streamId, fc.nat(), fc.uint8Array({ maxLength: 16 })).map(([s, code, d]) => { const p = Buffer.alloc(8); p.writeUInt32BE(s >>> 0); p.writeUInt32BE(code >>> 0, 4); return frame(7, 0, 0, Buffer.concat([p, Buffer.from(d)])); }),
  fc.tuple(fc.nat(255), streamId, fc.array(field, { maxLength: 3 })).map(([flags, s, fs]) => frame(9, flags, s, headerBlock(fs))),
  fc.tuple(streamId, fc.uint8Array({ minLength: 5, maxLength: 5 })).map(([s, p]) => frame(2, 0, s, Buffer.from(p))),
  fc.tuple(fc.integer({ min: 10, max: 255 }), fc.nat(255), streamId, fc.uint8Array({ maxLength: 32 })).map(([t, f, s, p]) => frame(t, f, s, Buffer.from(p))),
  fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)),
);

/** A client's opening: the preface (usually right), SETTINGS, then frames. */
export const h2Conversation: fc.Arbitrary<Buffer> = fc.tuple(fc.boolean(), fc.boolean(), fc.array(anyFrame, { minLength: 1, maxLength: 10 }))
  .map(([goodPreface, settings, frames]) => Buffer.concat([
    goodPreface ? PREFACE : PREFACE.subarray(0, 20),
    settings ? frame(4, 0, 0, Buffer.alloc(0)) : Buffer.alloc(0),
    ...frames,
  ]));
