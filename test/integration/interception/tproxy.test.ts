/**
 * TPROXY inbound capture: the stand-in proxy's 15006 listener is
 * IP_TRANSPARENT (set through the addon) and sees the client's own address
 * as the peer and the pod address it dialled as its local address.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runInPod } from '../../../src/local/netns/index.js';
import {
  APP_UID, PROXY_UID, applyIn, connectFrom, createMesh, destroyMesh, skipReason, startServer, type Mesh,
} from './fixture.js';

describe('TPROXY interception', { skip: skipReason() }, () => {
  let mesh: Mesh;

  before(async () => {
    mesh = await createMesh();
    await applyIn(mesh.app, ['-m', 'TPROXY', '-b', '*', '-d', '9090']);
    await startServer(mesh, mesh.app, 'proxy', [15001, 15006], PROXY_UID, true);
  });
  after(async () => {
    if (mesh) await destroyMesh(mesh);
  });

  test('inbound connections reach 15006 with the client source address preserved', async () => {
    const r = await connectFrom(mesh.peer, APP_UID, mesh.app.ip, 8080);
    assert.equal(r.name, 'proxy');
    assert.equal(r.listener, 15006);
    assert.equal(r.peer?.split(':')[0], mesh.peer.ip, 'the proxy sees the client, not a rewritten source');
    // TPROXY does not rewrite the destination: the socket's local address is the one dialled.
    assert.equal(r.local, `${mesh.app.ip}:8080`);
  });

  test('excluded inbound ports reach the app directly', async () => {
    const r = await connectFrom(mesh.peer, APP_UID, mesh.app.ip, 9090);
    assert.equal(r.name, 'app');
  });

  test('outbound still uses REDIRECT to 15001', async () => {
    const r = await connectFrom(mesh.app, APP_UID, '10.96.0.10', 80);
    assert.equal(r.listener, 15001);
    assert.equal(r.orig, '10.96.0.10:80');
  });

  test('policy routing for marked packets is in place, and cleanup removes it', async () => {
    const rules = await runInPod(mesh.app, 'ip', ['-4', 'rule', 'show']);
    assert.match(rules.stdout, /fwmark 0x539 lookup 133/);
    const routes = await runInPod(mesh.app, 'ip', ['-4', 'route', 'show', 'table', '133']);
    assert.match(routes.stdout, /local default dev lo/);
    await applyIn(mesh.app, ['--cleanup']);
    assert.doesNotMatch((await runInPod(mesh.app, 'ip', ['-4', 'rule', 'show'])).stdout, /lookup 133/);
    assert.equal((await runInPod(mesh.app, 'ip', ['-4', 'route', 'show', 'table', '133'])).stdout.trim(), '');
  });
});
