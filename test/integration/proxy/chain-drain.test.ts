/**
 * A filter chain whose config changes drains its connections, as Envoy's
 * filter-chain update does: a keep-alive connection opened before an
 * AuthorizationPolicy arrived is closed (idle: at once), so the client's next
 * request meets the new chain — otherwise a sidecar's pooled connection would
 * bypass the policy for as long as it lives. A chain that did not change keeps
 * its connections.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { allow, hcm, httpRbac, inboundListener, staticCluster } from './security-builders.js';

/** A raw keep-alive HTTP/1.1 connection: send a request, read one response, see whether the proxy closed it. */
class KeepAlive {
  readonly socket: net.Socket;
  #data = '';
  closed = false;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (c: Buffer) => { this.#data += c.toString('latin1'); });
    this.socket.on('close', () => { this.closed = true; });
    this.socket.on('error', () => undefined);
  }
  async get(path: string): Promise<number> {
    this.#data = '';
    this.socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
    const reply = await eventually(() => (/\r\n\r\n/.test(this.#data) ? this.#data : undefined), 3000, 'a response');
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);
  }
}

describe('proxy: a changed filter chain drains its connections', () => {
  const ads = new FakeAdsServer();
  let backend: Backend;
  let proxy: RunningProxy;
  let port = 0;
  const chain = (rbac: boolean) => ({ name: 'web', filters: [hcm({ statPrefix: 'web', cluster: 'app', httpFilters: rbac ? [httpRbac(allow({}))] : [] })] });
  const publish = (rbac: boolean, other: number) => {
    ads.setAll(TypeUrl.Listener, [
      ['in', inboundListener('in', 0, [chain(rbac)], [])],
      // Another listener whose change must not disturb the first one's connections.
      ['other', inboundListener('other', 0, [{ name: `other-${other}`, filters: [hcm({ statPrefix: `other${other}`, cluster: 'app' })] }], [])],
    ]);
    ads.push();
  };

  before(async () => {
    backend = await startBackend((req, res) => { req.resume(); res.end('ok'); });
    ads.setAll(TypeUrl.Cluster, [['app', staticCluster('app', backend.port)]]);
    publish(false, 1);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    port = await proxy.listenerPort('in');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await backend?.close();
  });

  test('an update of another listener leaves the connection open; a new policy on its own chain closes it', async () => {
    const c = new KeepAlive(port);
    assert.equal(await c.get('/one'), 200);
    publish(false, 2);
    await eventually(async () => (await proxy.admin('/config_dump')).body.includes('other2'), 5000, 'the other listener updated');
    assert.equal(await c.get('/two'), 200, 'same connection, same chain');
    assert.equal(c.closed, false);
    publish(true, 2);
    await eventually(() => c.closed, 5000, 'the idle connection on the changed chain closed');
    const fresh = new KeepAlive(port);
    assert.equal(await fresh.get('/three'), 403, 'the new connection meets the policy');
    fresh.socket.destroy();
  });
});
