/**
 * Issue 8, defect 4, with the real @grpc/grpc-js-xds client against our
 * AdsServer: a Listener and Cluster that are removed and come back unchanged
 * (a config directory emptied and restored) bring the channel back within
 * seconds, also a second time, and also when the client's ADS stream was
 * replaced in between. Without the server's respelling the channel would stay
 * UNAVAILABLE (grpc-xds-reappear-upstream.test.ts pins that).
 * Own file: grpc-js-xds caches its bootstrap and its resources per process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, makeGenericClientConstructor, type Server } from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { AdsServer } from '../../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../../src/controlplane/metrics/metrics.js';
import { logger } from '../../../src/log.js';
import { FakeGenerator } from './fake-generator.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import { backend, greeterService, hello, mesh, type Greeter } from './greeter-mesh.js';
import { waitFor } from '../../helpers/ads-client.js';

/** Calls every 50 ms until one answers; the answer and when, or undefined at the deadline. */
async function firstAnswer(client: Greeter, withinMs: number): Promise<{ from: string; at: number } | undefined> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const from = await hello(client, 500).catch(() => undefined);
    if (from !== undefined) return { from, at: Date.now() };
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

async function firstFailure(client: Greeter, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await hello(client, 500).then(() => false, () => true)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('grpc-js-xds recovers when its Listener and Cluster come back unchanged', () => {
  const nodeId = 'sidecar~127.0.0.1~reappear.default~default.svc.cluster.local';
  let server: AdsServer;
  let b: { server: Server; port: number };
  let client: Greeter | undefined;
  const full = () => new FakeGenerator(mesh(b.port));
  const empty = () => new FakeGenerator({ default: {} });

  const removeAll = async () => {
    server.setGenerator(empty());
    server.push();
    assert.ok(await firstFailure(client!, 5000), 'the removal reached the channel');
  };
  /** Restores the same resources; returns how long the channel took to answer again. */
  const restore = async () => {
    const t0 = Date.now();
    server.setGenerator(full());
    server.push();
    const answer = await firstAnswer(client!, 5000);
    assert.equal(answer?.from, 'b1', 'the channel answers again within 5 s of the restore');
    return answer!.at - t0;
  };

  before(async () => {
    b = await backend('b1');
    server = new AdsServer({ generator: full(), parseNode, metrics: new Metrics(), log: logger('test-ads') });
    const port = await server.listen('127.0.0.1', 0);
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, locality: {} },
    });
    grpcXds.register();
    const Ctor = makeGenericClientConstructor(greeterService, 'Greeter');
    client = new Ctor('xds:///greeter', credentials.createInsecure()) as unknown as Greeter;
    assert.equal((await firstAnswer(client, 5000))?.from, 'b1');
  });

  after(async () => {
    client?.close();
    await server.close();
    b.server.forceShutdown();
  });

  // First, while the client's cache still holds the resources as generated:
  // a stream-scoped memory would send them unchanged to the new stream.
  test('a new ADS stream between the removal and the restore still recovers', async () => {
    await removeAll();
    const before_ = server.connections().find((c) => c.node.id === nodeId);
    assert.ok(before_);
    before_.close();
    // The client opens a new stream (grpc-js-xds keeps its resource cache across streams).
    await waitFor(() => server.connections().some((c) => c.node.id === nodeId && c !== before_), 5000);
    await restore();
  });

  test('removed and restored on the same stream: serving again within seconds', async () => {
    await removeAll();
    await restore();
  });

  test('another removal and restore (the next spelling) recovers too', async () => {
    await removeAll();
    await restore();
  });
});
