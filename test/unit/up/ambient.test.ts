/**
 * `trellis up`'s ambient decisions (pure): which pods are ambient (the
 * control plane's rule), the node proxy's command line and token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrellisError } from '../../../src/errors.js';
import { isAmbientPod } from '../../../src/local/up/ambient/enrollment.js';
import { nodeProxyArgv, nodeProxyCommand, nodeProxyToken } from '../../../src/local/up/ambient/node-proxy-argv.js';
import { injectedMetadata } from '../../../src/local/up/injection.js';

const pod = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({ namespace: 'shop', name: 'web-1', labels, annotations });
const AMBIENT = { 'istio.io/dataplane-mode': 'ambient' };

test('ambient: by namespace or pod label; "none" opts a pod out; an injected pod never is', () => {
  assert.equal(isAmbientPod(pod(), AMBIENT), true);
  assert.equal(isAmbientPod(pod(AMBIENT), {}), true);
  assert.equal(isAmbientPod(pod(), {}), false);
  assert.equal(isAmbientPod(pod({ 'istio.io/dataplane-mode': 'none' }), AMBIENT), false);
  const injected = injectedMetadata({}, 'web');
  assert.equal(isAmbientPod(pod({ ...AMBIENT, ...injected.labels }, injected.annotations), AMBIENT), false);
});

test('the node proxy: this CLI\'s ztunnel with the contract\'s flags, or the override; a node-bound ztunnel token', () => {
  const cmd = nodeProxyCommand(['node', 'main.js'], undefined);
  assert.deepEqual(cmd, ['node', 'main.js', 'ztunnel']);
  assert.deepEqual(nodeProxyArgv(cmd, { nodeName: 'n1', xds: '10.0.0.1:15010', ca: '10.0.0.1:15012', rootCertFile: '/r', tokenFile: '/t', zdsSocket: '/s' }), [
    'node', 'main.js', 'ztunnel', '--node-name', 'n1', '--xds-address', '10.0.0.1:15010', '--ca-address', '10.0.0.1:15012',
    '--root-cert', '/r', '--token-file', '/t', '--zds-socket', '/s', '--admin-port', '15000',
  ]);
  assert.deepEqual(nodeProxyCommand(['node', 'main.js'], '["/bin/fake","x"]'), ['/bin/fake', 'x']);
  for (const bad of ['/bin/fake', '[]', '[1]', '{"a":1}']) {
    assert.throws(() => nodeProxyCommand([], bad), (e: unknown) => e instanceof TrellisError && e.code === 'CLI_USAGE' && /JSON array of strings/.test(e.message));
  }
  assert.deepEqual(nodeProxyToken('n1', 60), { namespace: 'istio-system', serviceAccount: 'ztunnel', ttlSeconds: 60, audience: 'istio-ca', node: { name: 'n1' } });
});
