/**
 * REDIRECT capture on a real kernel: rules applied by `trellis iptables` in
 * the app pod's namespace, a stand-in proxy (uid 1337) on 15001/15006 that
 * reports SO_ORIGINAL_DST, an unmodified client as another uid.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runInPod } from '../../../src/local/netns/index.js';
import {
  APP_UID, PROXY_UID, applyIn, connectFrom, createMesh, destroyMesh, skipReason, startServer, type Mesh,
} from './fixture.js';

describe('REDIRECT interception', { skip: skipReason() }, () => {
  let mesh: Mesh;

  before(async () => {
    mesh = await createMesh();
    await startServer(mesh, mesh.app, 'proxy', [15001, 15006], PROXY_UID);
    await startServer(mesh, mesh.app, 'dns', [15053], PROXY_UID, false, true);
    await startServer(mesh, mesh.app, 'dns-tcp', [15053], PROXY_UID);
  });
  after(async () => {
    if (mesh) await destroyMesh(mesh);
  });

  test('without rules the client reaches the service backend directly', async () => {
    await applyIn(mesh.app, ['--cleanup']);
    const r = await connectFrom(mesh.app, APP_UID, '10.96.0.10', 80);
    assert.equal(r.name, 'peer');
  });

  test('outbound: the app connection lands on 15001 with the original destination', async () => {
    await applyIn(mesh.app, []);
    const r = await connectFrom(mesh.app, APP_UID, '10.96.0.10', 80);
    assert.equal(r.name, 'proxy');
    assert.equal(r.listener, 15001);
    assert.equal(r.orig, '10.96.0.10:80');
    assert.equal(r.peer?.split(':')[0], mesh.app.ip);
  });

  test('IPv6: outbound connections are captured by the ip6tables rules', async (t) => {
    const addr = await runInPod(mesh.app, 'ip', ['-6', 'addr', 'add', 'fd00:244::10/128', 'dev', 'eth0', 'nodad']);
    if (addr.code !== 0) return t.skip(`no IPv6 in the pod namespace: ${addr.stderr.trim()}`);
    // A route is needed for the routing decision; capture happens before any neighbour lookup.
    assert.equal((await runInPod(mesh.app, 'ip', ['-6', 'route', 'add', 'fd00:96::/64', 'dev', 'eth0'])).code, 0);
    await applyIn(mesh.app, []);
    const r = await connectFrom(mesh.app, APP_UID, 'fd00:96::1', 80);
    assert.equal(r.name, 'proxy');
    assert.equal(r.listener, 15001);
    assert.equal(r.orig, 'fd00:96::1:80');
  });

  test('the proxy uid is not captured', async () => {
    await applyIn(mesh.app, []);
    const r = await connectFrom(mesh.app, PROXY_UID, '10.96.0.10', 80);
    assert.equal(r.name, 'peer');
    assert.equal(r.listener, 8080);
  });

  test('excluded outbound ports bypass the proxy (-o)', async () => {
    await applyIn(mesh.app, ['-o', '81']);
    assert.equal((await connectFrom(mesh.app, APP_UID, '10.96.0.10', 81)).name, 'peer');
    assert.equal((await connectFrom(mesh.app, APP_UID, '10.96.0.10', 80)).name, 'proxy');
  });

  test('excluded CIDRs bypass the proxy (-x)', async () => {
    await applyIn(mesh.app, ['-x', '10.96.0.20/32']);
    assert.equal((await connectFrom(mesh.app, APP_UID, '10.96.0.20', 80)).name, 'peer');
    const captured = await connectFrom(mesh.app, APP_UID, '10.96.0.10', 80);
    assert.equal(captured.name, 'proxy');
    assert.equal(captured.orig, '10.96.0.10:80');
  });

  test('include-only ranges capture only those (-i)', async () => {
    await applyIn(mesh.app, ['-i', '10.96.0.20/32']);
    const captured = await connectFrom(mesh.app, APP_UID, '10.96.0.20', 80);
    assert.equal(captured.name, 'proxy');
    assert.equal(captured.orig, '10.96.0.20:80');
    assert.equal((await connectFrom(mesh.app, APP_UID, '10.96.0.10', 80)).name, 'peer');
  });

  test('included outbound ports are captured even outside included ranges (-q)', async () => {
    await applyIn(mesh.app, ['-i', '', '-q', '81']);
    assert.equal((await connectFrom(mesh.app, APP_UID, '10.96.0.10', 81)).name, 'proxy');
    assert.equal((await connectFrom(mesh.app, APP_UID, '10.96.0.10', 80)).name, 'peer');
  });

  test('inbound: connections to the pod land on 15006, excluded ports reach the app (-d)', async () => {
    await applyIn(mesh.app, ['-b', '*', '-d', '9090']);
    const captured = await connectFrom(mesh.peer, APP_UID, mesh.app.ip, 8080);
    assert.equal(captured.name, 'proxy');
    assert.equal(captured.listener, 15006);
    assert.equal(captured.orig, `${mesh.app.ip}:8080`);
    assert.equal(captured.peer?.split(':')[0], mesh.peer.ip);
    const direct = await connectFrom(mesh.peer, APP_UID, mesh.app.ip, 9090);
    assert.equal(direct.name, 'app');
    assert.equal(direct.listener, 9090);
  });

  test('inbound ports list: only those are captured (-b)', async () => {
    await applyIn(mesh.app, ['-b', '9090']);
    assert.equal((await connectFrom(mesh.peer, APP_UID, mesh.app.ip, 9090)).name, 'proxy');
    assert.equal((await connectFrom(mesh.peer, APP_UID, mesh.app.ip, 8080)).name, 'app');
  });

  test('DNS capture: udp and tcp 53 to the listed servers land on 15053, other servers do not', async () => {
    await applyIn(mesh.app, ['--redirect-dns', '--dns-servers', '10.96.0.53']);
    const viaUdp = await connectFrom(mesh.app, APP_UID, '10.96.0.53', 53, true);
    assert.equal(viaUdp.name, 'dns');
    assert.equal(viaUdp.listener, 15053);
    const viaTcp = await connectFrom(mesh.app, APP_UID, '10.96.0.53', 53);
    assert.equal(viaTcp.name, 'dns-tcp');
    assert.equal(viaTcp.orig, '10.96.0.53:53');
    // TCP to another server's port 53 is ordinary outbound traffic (the outbound listener)...
    assert.equal((await connectFrom(mesh.app, APP_UID, '10.96.0.99', 53)).listener, 15001);
    // ...and UDP to it is not captured at all (nobody answers there).
    assert.equal((await connectFrom(mesh.app, APP_UID, '10.96.0.99', 53, true)).error, 'ETIMEDOUT');
  });

  test('localhost traffic of the app is left alone', async () => {
    await applyIn(mesh.app, []);
    const r = await connectFrom(mesh.app, APP_UID, '127.0.0.1', 9090);
    assert.equal(r.name, 'app');
  });

  test('app to its own pod IP stays direct; the proxy to the pod IP goes back inbound', async () => {
    await applyIn(mesh.app, []);
    assert.equal((await connectFrom(mesh.app, APP_UID, mesh.app.ip, 9090)).name, 'app');
    // The outbound proxy calling its own pod's service endpoint is sent through inbound capture.
    const viaInbound = await connectFrom(mesh.app, PROXY_UID, mesh.app.ip, 9090);
    assert.equal(viaInbound.listener, 15006);
    assert.equal(viaInbound.orig, `${mesh.app.ip}:9090`);
  });
});
