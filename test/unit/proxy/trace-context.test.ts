import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { propagateTrace } from '../../../src/proxy/router/trace-context.js';
import type { Headers } from '../../../src/proxy/router/header-ops.js';

const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
const parent = '00f067aa0ba902b7';

describe('trace context propagation', () => {
  test('W3C traceparent: same trace, new span, flags and tracestate kept, B3 written alongside', () => {
    const h: Headers = { traceparent: `00-${trace}-${parent}-01`, tracestate: 'congo=t61rcWkgMzE' };
    propagateTrace(h);
    const [v, t, s, f] = (h.traceparent as string).split('-');
    assert.deepEqual([v, t, f], ['00', trace, '01']);
    assert.match(s!, /^[0-9a-f]{16}$/);
    assert.notEqual(s, parent);
    assert.equal(h.tracestate, 'congo=t61rcWkgMzE');
    assert.equal(h['x-b3-traceid'], trace);
    assert.equal(h['x-b3-spanid'], s);
    assert.equal(h['x-b3-parentspanid'], parent);
    assert.equal(h['x-b3-sampled'], '1');
  });

  test('each hop gets a fresh span whose parent is the previous hop', () => {
    const h: Headers = { traceparent: `00-${trace}-${parent}-00` };
    propagateTrace(h);
    const first = (h.traceparent as string).split('-')[2];
    propagateTrace(h);
    assert.equal(h['x-b3-parentspanid'], first);
    assert.notEqual((h.traceparent as string).split('-')[2], first);
    assert.equal(h['x-b3-sampled'], '0');
  });

  test('B3 multi-header with a 64-bit trace id: padded for W3C, parent recorded', () => {
    const h: Headers = { 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': parent, 'x-b3-sampled': '1' };
    propagateTrace(h);
    assert.equal(h['x-b3-traceid'], '0000000000000000a3ce929d0e0e4736');
    assert.equal(h['x-b3-parentspanid'], parent);
    assert.match(h.traceparent as string, /^00-0000000000000000a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  test('B3 single header is rewritten in its own format', () => {
    const h: Headers = { b3: `${trace}-${parent}-1` };
    propagateTrace(h);
    const span = h['x-b3-spanid'] as string;
    assert.equal(h.b3, `${trace}-${span}-1-${parent}`);
  });

  test('no context, or an invalid one: a new trace, and a stale tracestate is dropped', () => {
    for (const bad of [undefined, 'garbage', `00-${'0'.repeat(32)}-${parent}-01`, `ff-${trace}-${parent}-01`, `00-${trace}-${parent}-01-extra`]) {
      const h: Headers = { tracestate: 'x=y' };
      if (bad !== undefined) h.traceparent = bad;
      propagateTrace(h);
      const [v, t, s, f] = (h.traceparent as string).split('-');
      assert.equal(v, '00');
      assert.match(t!, /^[0-9a-f]{32}$/);
      assert.notEqual(t, trace);
      assert.match(s!, /^[0-9a-f]{16}$/);
      assert.equal(f, '00');
      assert.equal(h.tracestate, undefined, String(bad));
      assert.equal(h['x-b3-parentspanid'], undefined);
    }
  });

  test('ids are not reused across requests', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const h: Headers = {};
      propagateTrace(h);
      seen.add(h['x-b3-spanid'] as string);
    }
    assert.equal(seen.size, 2000);
  });
});
