/**
 * tcpKeepalive applied on the proxy's upstream sockets, all three timers (issue 13):
 * keepalive-scenario.ts runs in a network namespace of its own (needs root, unshare,
 * iptables and the native addon; skipped otherwise), sees the keepalive timer on the
 * upstream connection, and measures how long unanswered probes take to close it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '../../../src/native/original-dst.js';

const scenario = fileURLToPath(new URL('./keepalive-scenario.js', import.meta.url));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const why = process.getuid?.() !== 0 ? 'needs root' : !has('unshare') || !has('iptables') || !has('ss') ? 'needs unshare, iptables and ss' : !nativeAvailable().ok ? 'native addon not built' : undefined;

test('time 1s, interval 1s, probes 2: a keepalive timer on the upstream socket, and a silent peer dropped after about 3 s', { skip: why ?? false, timeout: 40_000 }, () => {
  const r = spawnSync('unshare', ['-n', process.execPath, scenario], { encoding: 'utf8', timeout: 35_000 });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { status: number; connections: number; keepaliveTimer: boolean; closedAfterMs: number };
  assert.deepEqual([result.status, result.connections, result.keepaliveTimer], [200, 1, true], r.stdout);
  // Idle 1 s, then 2 probes 1 s apart: about 3 s (the idle clock started at the request, a little earlier).
  // The system's defaults (75 s interval, 9 probes) would take minutes; Node's setKeepAlive alone (libuv sets
  // a 1 s interval and 10 probes) took 11 s when measured with TRELLIS_NATIVE_DISABLE=1.
  assert.ok(result.closedAfterMs >= 1000 && result.closedAfterMs < 8000, r.stdout);
});
