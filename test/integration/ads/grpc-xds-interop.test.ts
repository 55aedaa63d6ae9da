/**
 * Interop: a real xDS client (@grpc/grpc-js-xds, SotW) resolves xds:///greeter
 * through our AdsServer — LDS (API listener) → RDS → CDS → EDS — makes RPCs,
 * ACKs everything, and follows a push that moves the endpoint.
 * Own file: grpc-js-xds caches its bootstrap per process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { AdsServer } from '../../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../../src/controlplane/metrics/metrics.js';
import { logger } from '../../../src/log.js';
import { FakeGenerator } from './fake-generator.js';
import { backend, greeterService, hello, mesh, type Greeter } from './greeter-mesh.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import { waitFor } from '../../helpers/ads-client.js';

describe('interop with @grpc/grpc-js-xds (SotW)', () => {
  const nodeId = 'sidecar~127.0.0.1~greeter-client.default~default.svc.cluster.local';
  let server: AdsServer;
  let b1: { server: Server; port: number };
  let b2: { server: Server; port: number };
  let client: Greeter | undefined;

  before(async () => {
    b1 = await backend('b1');
    b2 = await backend('b2');
    server = new AdsServer({ generator: new FakeGenerator(mesh(b1.port)), parseNode, metrics: new Metrics(), log: logger('test-ads') });
    const port = await server.listen('127.0.0.1', 0);
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, locality: {} },
    });
    grpcXds.register();
  });

  after(async () => {
    client?.close();
    await server.close();
    b1.server.forceShutdown();
    b2.server.forceShutdown();
  });

  test('RPC through xds:///greeter; all four types ACKed; a push moves traffic', async () => {
    const Ctor = makeGenericClientConstructor(greeterService, 'Greeter');
    client = new Ctor('xds:///greeter', credentials.createInsecure()) as unknown as Greeter;
    assert.equal(await hello(client), 'b1');
    const synced = () => {
      const p = server.syncStatus().find((e) => e.nodeId === nodeId);
      return p !== undefined && ['LDS', 'RDS', 'CDS', 'EDS'].every((t) => p.types[t].status === 'SYNCED');
    };
    await waitFor(synced, 5000);

    server.setGenerator(new FakeGenerator(mesh(b2.port)));
    const stats = server.push();
    assert.equal(stats.responses, 1, 'only EDS changed');
    let last = '';
    const deadline = Date.now() + 5000;
    while (last !== 'b2' && Date.now() < deadline) {
      last = await hello(client);
      if (last !== 'b2') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(last, 'b2');
    await waitFor(synced, 5000);
  });
});
