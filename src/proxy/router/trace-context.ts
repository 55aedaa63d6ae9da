/**
 * Trace context propagation, W3C Trace Context (traceparent) and B3 (multi
 * and single header), as a sidecar does it: every hop is a new span whose
 * parent is the incoming span, the trace id is kept, and tracestate passes
 * through untouched. A request without context starts a new trace. When only
 * one format arrives, the other is written with the same ids, so services
 * instrumented with either library see one trace.
 *
 * The sampling decision is the caller's (the incoming flags); new traces are
 * not sampled, as no tracing backend is configured yet.
 */
import { randomFillSync } from 'node:crypto';
import type { Headers } from './header-ops.js';

interface Context {
  traceId: string; // 32 lower-case hex
  spanId: string; // 16 lower-case hex: the incoming span, parent of ours
  sampled: boolean;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

/** Rewrites `h` in place for the next hop. */
export function propagateTrace(h: Headers): void {
  const incoming = fromTraceparent(h.traceparent) ?? fromB3Single(h.b3) ?? fromB3Multi(h);
  const span = randomHex(8);
  const ctx = incoming ?? { traceId: randomHex(16), spanId: '', sampled: false };
  h.traceparent = `00-${ctx.traceId}-${span}-${ctx.sampled ? '01' : '00'}`;
  // `delete` only where the header is present: deleting an absent key still takes V8's slow runtime path.
  if (incoming === undefined && h.tracestate !== undefined) delete h.tracestate;
  h['x-b3-traceid'] = ctx.traceId;
  h['x-b3-spanid'] = span;
  if (ctx.spanId) h['x-b3-parentspanid'] = ctx.spanId;
  else if (h['x-b3-parentspanid'] !== undefined) delete h['x-b3-parentspanid'];
  h['x-b3-sampled'] = ctx.sampled ? '1' : '0';
  if (h['x-b3-flags'] !== undefined) delete h['x-b3-flags'];
  if (h.b3 !== undefined) h.b3 = `${ctx.traceId}-${span}-${ctx.sampled ? '1' : '0'}${ctx.spanId ? `-${ctx.spanId}` : ''}`;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** version "00" (or a future version, read by the 00 layout as the spec asks). */
function fromTraceparent(v: string | string[] | undefined): Context | undefined {
  const s = one(v)?.trim().toLowerCase();
  if (s === undefined || s.length < 55) return undefined;
  const [version, traceId, spanId, flags] = s.split('-');
  if (version === undefined || version === 'ff' || !/^[0-9a-f]{2}$/.test(version)) return undefined;
  if (version === '00' && s.length !== 55) return undefined;
  if (!traceId || !HEX32.test(traceId) || traceId === ZERO32) return undefined;
  if (!spanId || !HEX16.test(spanId) || spanId === ZERO16) return undefined;
  if (!flags || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** b3: {traceid}-{spanid}[-{sampled}[-{parentspanid}]]; a bare "0"/"1"/"d" carries no ids. */
function fromB3Single(v: string | string[] | undefined): Context | undefined {
  const s = one(v)?.trim().toLowerCase();
  if (s === undefined) return undefined;
  const [traceId, spanId, sampled] = s.split('-');
  const t = b3TraceId(traceId);
  if (t === undefined || !spanId || !HEX16.test(spanId)) return undefined;
  return { traceId: t, spanId, sampled: sampled === '1' || sampled === 'd' };
}

function fromB3Multi(h: Headers): Context | undefined {
  const t = b3TraceId(one(h['x-b3-traceid'])?.toLowerCase());
  const spanId = one(h['x-b3-spanid'])?.toLowerCase();
  if (t === undefined || spanId === undefined || !HEX16.test(spanId)) return undefined;
  const sampled = one(h['x-b3-sampled']);
  return { traceId: t, spanId, sampled: sampled === '1' || sampled === 'true' || one(h['x-b3-flags']) === '1' };
}

/** B3 trace ids are 64 or 128 bits; W3C needs 128, so a 64-bit id is left-padded with zeros. */
function b3TraceId(t: string | undefined): string | undefined {
  if (t === undefined) return undefined;
  if (HEX32.test(t)) return t === ZERO32 ? undefined : t;
  if (HEX16.test(t)) return t === ZERO16 ? undefined : ZERO16 + t;
  return undefined;
}

// Random ids from a pooled buffer: one getrandom call per 256 ids, not per request.
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return s;
}
