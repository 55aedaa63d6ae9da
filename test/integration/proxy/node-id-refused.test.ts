/**
 * `trellis proxy --node-id` with an id the control plane would refuse: the
 * proxy stops at start with the control plane's own message (istiod would
 * answer INVALID_ARGUMENT on every reconnect), before it binds anything.
 * ISTIO_META_INSTANCE_IPS counts as istiod counts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { trellisBin } from '../../helpers/trellis-process.js';

/** Runs the proxy until it exits, or kills it once stdout matches `until` (or after 5 s); returns exit code, stdout and stderr. */
async function runProxy(nodeId: string, env: NodeJS.ProcessEnv = {}, until?: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  // Port 1 on loopback: nothing listens, so a proxy that did start would only retry, never get config.
  const child = spawn(process.execPath, [trellisBin, 'proxy', '--xds-address', '127.0.0.1:1', '--node-id', nodeId, '--admin-port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    if (until?.test(out)) child.kill('SIGKILL');
  });
  child.stderr.on('data', (d: Buffer) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out, err };
}

test('a bad --node-id stops the proxy at start with what is wrong and the expected shape', async () => {
  for (const [id, why] of [
    ['garbage', /it has 1 part\(s\) separated by "~", not 4/],
    ['sidecar~not-an-ip~p.ns~ns.svc.cluster.local', /no valid IP address: "not-an-ip" is not one, and metadata INSTANCE_IPS is not set/],
  ] as const) {
    const r = await runProxy(id);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, new RegExp(`^trellis: invalid node id ${JSON.stringify(id).replace(/[.~]/g, '\\$&')}: `));
    assert.match(r.err, why);
    assert.match(r.err, /expected TYPE~IP~POD\.NAMESPACE~NAMESPACE\.svc\.DOMAIN/);
    assert.doesNotMatch(r.out, /admin listening/, 'nothing was started');
  }
});

test('an id without an IP starts when ISTIO_META_INSTANCE_IPS has one, as istiod accepts it', async () => {
  const r = await runProxy('sidecar~~p.ns~ns.svc.cluster.local', { ISTIO_META_INSTANCE_IPS: '10.0.0.5' }, /admin listening/);
  assert.equal(r.code, null, `the proxy exited by itself: ${r.err}`);
  assert.match(r.out, /admin listening on 127\.0\.0\.1:\d+/);
});
