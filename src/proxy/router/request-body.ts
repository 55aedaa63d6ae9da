/**
 * The request body when it must be sent more than once (retries, mirrors),
 * bounded as Envoy bounds it: up to the limit the whole body is read and kept;
 * a body that grows past it is not refused — like Envoy's router, the retry
 * and the mirror are given up for that request
 * (cluster.<name>.retry_or_shadow_abandoned) and what was read is streamed
 * followed by the rest, so a large upload costs the limit, not its size.
 * Otherwise (no retry, no mirror) the body streams through untouched.
 */
import { Readable } from 'node:stream';
import type { DownstreamRequest } from '../codec/downstream.js';

/** Envoy's default per-connection buffer limit, which bounds what its router keeps for a retry or shadow. */
export const RETRY_BUFFER_LIMIT = 1 << 20;

export type KeptBody =
  | { kind: 'buffered'; body: Buffer }
  /** Over the limit: the bytes read so far and the rest of the body, streamed once. */
  | { kind: 'streamed'; body: Readable };

/** Reads `req` until its end (buffered) or until more than `limit` bytes arrived (streamed). */
export async function bufferBody(req: DownstreamRequest, limit = RETRY_BUFFER_LIMIT): Promise<KeptBody> {
  const it = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) return { kind: 'buffered', body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
    chunks.push(r.value);
    size += r.value.length;
    // Not `for await`: leaving that loop would destroy the request stream the rest is read from.
    if (size > limit) return { kind: 'streamed', body: Readable.from(rest(chunks, it), { objectMode: false }) };
  }
}

async function* rest(read: Buffer[], it: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* read.splice(0);
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield r.value;
  }
}
