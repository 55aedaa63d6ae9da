/** tls-check's table on a terminal: CONFLICT rows stand out in red, the others stay plain; NO colour otherwise. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readConfigDirectory } from '../../../src/controlplane/sources/read-directory.js';
import { meshConfigOf } from '../../../src/debug/mesh-config.js';
import { runTlsCheck } from '../../../src/debug/tls-check/run.js';

const fixture = fileURLToPath(new URL('../../../../test/fixtures/debug-mesh/', import.meta.url));

async function output(color: boolean): Promise<{ code: number; text: string }> {
  const read = await readConfigDirectory(fixture);
  const cfg = meshConfigOf('fixture', [...read.objects.values()]);
  let text = '';
  const code = runTlsCheck(cfg, { pod: 'productpage-v1', color }, (t) => (text += t));
  return { code, text };
}

test('on a terminal only the CONFLICT row is red', async () => {
  const { code, text } = await output(true);
  assert.equal(code, 1);
  const red = text.split('\n').filter((l) => l.startsWith('\u001b[31m'));
  assert.equal(red.length, 1);
  assert.match(red[0]!, /^\u001b\[31mratings\.default\.svc\.cluster\.local:9080 +CONFLICT .*\u001b\[0m$/);
});

test('elsewhere no escape codes at all', async () => {
  assert.doesNotMatch((await output(false)).text, /\u001b/);
});
