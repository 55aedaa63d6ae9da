import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer } from '../../../src/controlplane/debounce.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Debouncer (config changes → one push)', () => {
  test('a burst of changes fires once, after the quiet time', async () => {
    let fired = 0;
    const d = new Debouncer(50, 1000, () => fired++);
    for (let i = 0; i < 5; i++) {
      d.trigger();
      await sleep(10);
    }
    assert.equal(fired, 0, 'not while changes keep coming');
    await sleep(120);
    assert.equal(fired, 1);
  });

  test('a source that never goes quiet still fires by the maximum delay', async () => {
    let fired = 0;
    const d = new Debouncer(50, 150, () => fired++);
    const started = Date.now();
    while (fired === 0 && Date.now() - started < 1000) {
      d.trigger();
      await sleep(20);
    }
    d.cancel();
    assert.equal(fired, 1);
    assert.ok(Date.now() - started < 400, `fired after ${Date.now() - started} ms`);
  });

  test('cancel drops a pending push', async () => {
    let fired = 0;
    const d = new Debouncer(20, 100, () => fired++);
    d.trigger();
    d.cancel();
    await sleep(60);
    assert.equal(fired, 0);
  });
});
