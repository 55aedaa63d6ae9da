/**
 * Transparent capture for real: in a network namespace of its own (needs root,
 * unshare and iptables; skipped otherwise), connections to a service IP are
 * REDIRECTed to virtualOutbound and reach the listener for their original
 * destination (HTTP on 0.0.0.0_80, TCP on IP_5432) via SO_ORIGINAL_DST.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '../../../src/native/original-dst.js';

const scenario = fileURLToPath(new URL('./netns-scenario.js', import.meta.url));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const why = process.getuid?.() !== 0 ? 'needs root' : !has('unshare') || !has('iptables') ? 'needs unshare and iptables' : !nativeAvailable().ok ? 'native addon not built' : undefined;

test('iptables REDIRECT → virtualOutbound → original-destination listener', { skip: why ?? false, timeout: 30_000 }, () => {
  const r = spawnSync('unshare', ['-n', process.execPath, scenario], { encoding: 'utf8', timeout: 25_000 });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  assert.deepEqual(result, { status: 200, backend: 'web', host: '10.96.0.77', echoed: 'ping', listenerCx: '2' });
});
