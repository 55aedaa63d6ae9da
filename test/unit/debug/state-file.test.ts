/** The state file `trellis up` writes and the debugging CLI reads: round trip, staleness, and what is refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMeshState, readStateFile, writeStateFile, type MeshState } from '../../../src/local/state-file.js';

const mesh: MeshState = {
  pid: process.pid,
  configDir: '/srv/mesh',
  controlPlane: { debug: '127.0.0.1:15014', xds: '127.0.0.1:15010', ca: '127.0.0.1:15012' },
  pods: [{ name: 'reviews-v1', namespace: 'default', ip: '10.244.0.11', admin: '10.244.0.11:15000', netns: 'trellis-reviews-v1', node: 'node-1' }],
};

test('written atomically with its version, read back; a dead writer marks it stale', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-state-'));
  try {
    const path = join(dir, 'nested', 'mesh.json');
    await writeStateFile(mesh, path);
    assert.equal((await stat(path)).mode & 0o777, 0o644);
    const found = await readStateFile([join(dir, 'absent.json'), path]);
    assert.deepEqual(found, { path, state: { version: 1, ...mesh }, stale: false });
    await writeStateFile({ ...mesh, pid: 2 ** 22 + 17 }, path);
    assert.equal((await readStateFile([path]))?.stale, true);
    assert.equal(await readStateFile([join(dir, 'absent.json')]), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('malformed files are STATE_FILE errors naming the file and the field; unknown fields are fine', () => {
  const bad: [string, RegExp][] = [
    ['{', /not JSON/],
    ['[]', /not a JSON object/],
    ['{"version": 2, "controlPlane": {"debug": "a:1", "xds": "a:2"}, "pods": []}', /version 2 is newer than this trellis reads \(1\)/],
    ['{"controlPlane": {"debug": "nohost", "xds": "a:2"}, "pods": []}', /controlPlane\.debug and controlPlane\.xds must be HOST:PORT/],
    ['{"controlPlane": {"debug": "a:1", "xds": "a:2"}}', /pods must be an array/],
    ['{"controlPlane": {"debug": "a:1", "xds": "a:2"}, "pods": [{"name": "x", "namespace": "y"}]}', /pods\[0\] needs name, namespace and ip/],
    ['{"controlPlane": {"debug": "a:1", "xds": "a:2"}, "pods": [{"name": "x", "namespace": "y", "ip": "1.2.3.4", "admin": "15000"}]}', /pods\[0\]\.admin must be a HOST:PORT/],
    ['{"controlPlane": {"debug": "a:1", "xds": "a:2"}, "pods": [], "nodeProxies": {}}', /nodeProxies must be an array/],
    ['{"controlPlane": {"debug": "a:1", "xds": "a:2"}, "pods": [], "nodeProxies": [{"name": "z", "namespace": "istio-system"}]}', /nodeProxies\[0\] needs name, namespace and node/],
    ['{"controlPlane": {"debug": "a:1", "xds": "a:2"}, "pods": [], "nodeProxies": [{"name": "z", "namespace": "n", "node": "d", "admin": "x"}]}', /nodeProxies\[0\]\.admin must be a HOST:PORT/],
    ['{"controlPlane": {"debug": "a:1", "xds": "a:2"}, "pods": [], "nodeProxies": [{"name": "z", "namespace": "n", "node": "d", "admin": "a:1", "pid": "7"}]}', /nodeProxies\[0\]\.pid must be an integer/],
  ];
  for (const [text, why] of bad) assert.throws(() => parseMeshState(text, '/run/trellis/mesh.json'), (e: Error) => e.message.startsWith('mesh state file /run/trellis/mesh.json: ') && why.test(e.message), text);
  const extra = parseMeshState('{"controlPlane": {"debug": "[::1]:15014", "xds": "a:2"}, "pods": [], "future": true}', 'f');
  assert.equal(extra.controlPlane.debug, '[::1]:15014');
  const withNodeProxy = parseMeshState('{"controlPlane": {"debug": "a:1", "xds": "a:2"}, "pods": [], "nodeProxies": [{"name": "ztunnel-n", "namespace": "istio-system", "node": "n", "admin": "127.0.0.1:15000", "netns": "n", "pid": 7}]}', 'f');
  assert.deepEqual(withNodeProxy.nodeProxies, [{ name: 'ztunnel-n', namespace: 'istio-system', node: 'n', admin: '127.0.0.1:15000', netns: 'n', pid: 7 }]);
});
