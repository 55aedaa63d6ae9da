/** Reading an UpstreamBody in tests: all of it (optionally slowly, with pause/resume), or stopping it mid-way. */
import assert from 'node:assert/strict';
import type { BodySink, UpstreamResponse } from '../../src/proxy/upstream/response.js';

export function collect(r: UpstreamResponse, slow = false): Promise<{ text: string; bytes: number; ends: number; error: Error | undefined }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const st = { text: '', bytes: 0, ends: 0, error: undefined as Error | undefined };
    const sink: BodySink = {
      data(c) {
        st.bytes += c.length;
        if (parts.length < 64) parts.push(Buffer.from(c));
        if (slow) {
          r.body.pause();
          setImmediate(() => r.body.resume());
        }
      },
      end() { st.ends++; setTimeout(() => { st.text = Buffer.concat(parts).toString(); resolve(st); }, 20); },
      error(e) { st.error = e; resolve(st); },
    };
    r.body.start(sink);
  });
}

/** destroy() while data flows: no data, end or error is delivered afterwards. */
export async function destroyMidBody(r: UpstreamResponse): Promise<void> {
  let calls = 0;
  r.body.start({ data: () => { calls++; }, end: () => { calls += 100; }, error: () => { calls += 1000; } });
  await new Promise((res) => setTimeout(res, 40));
  r.body.destroy();
  const seen = calls;
  assert.ok(seen >= 1 && seen < 100, `data calls before destroy: ${seen}`);
  await new Promise((res) => setTimeout(res, 40));
  assert.equal(calls, seen);
}
