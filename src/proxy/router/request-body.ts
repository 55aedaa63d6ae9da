/**
 * The request body when it must be sent more than once (retries, mirrors):
 * read whole and kept, as Envoy buffers it, up to the retry buffer limit; a
 * larger body fails the request (500). Otherwise the body streams through.
 */
import type { DownstreamRequest } from '../codec/downstream.js';

/** Envoy buffers request bodies up to this size so a retry can resend them. */
const RETRY_BUFFER_LIMIT = 1 << 20;

export async function bufferBody(req: DownstreamRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    chunks.push(c);
    size += c.length;
    if (size > RETRY_BUFFER_LIMIT) throw new Error('request body exceeds the retry buffer');
  }
  return Buffer.concat(chunks);
}
