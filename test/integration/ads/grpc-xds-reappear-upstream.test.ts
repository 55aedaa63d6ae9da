/**
 * The upstream client bug, pinned with a bare SotW server (no Trellis server
 * logic): @grpc/grpc-js-xds 1.14.1 ignores a Listener that comes back
 * byte-identical after a response that omitted it, and the channel stays
 * UNAVAILABLE. The same return with other bytes recovers at once, which
 * shows the harness can see a recovery.
 *
 * If the first test starts failing because the channel recovered, grpc-js-xds
 * fixed the bug (docs/upstream/grpc-js-xds-reappearing-resource.md) and the
 * server's workaround (src/controlplane/server/reappearance.ts) can go.
 * Own file: grpc-js-xds caches its bootstrap and its resources per process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, makeGenericClientConstructor, type Server } from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { BareSotwServer } from './bare-sotw-server.js';
import { CDS, EDS, LDS, RDS } from './fake-generator.js';
import { backend, greeterService, hello, mesh, type Greeter } from './greeter-mesh.js';

/** Calls every 50 ms until one answers, or gives up at the deadline; returns the answer or undefined. */
async function firstAnswer(client: Greeter, withinMs: number): Promise<string | undefined> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const got = await hello(client, 500).catch(() => undefined);
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/** Calls every 50 ms until one fails; true if one did within the time. */
async function firstFailure(client: Greeter, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await hello(client, 500).then(() => false, () => true)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('grpc-js-xds and a Listener that is removed and comes back (upstream behaviour)', () => {
  let server: BareSotwServer;
  let b: { server: Server; port: number };
  let client: Greeter | undefined;

  before(async () => {
    b = await backend('b1');
    server = new BareSotwServer();
    const m = mesh(b.port).default!;
    for (const type of [LDS, RDS, CDS, EDS]) server.set(type, m[type]!);
    const port = await server.listen();
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'sidecar~127.0.0.1~upstream-repro.default~default.svc.cluster.local', locality: {} },
    });
    grpcXds.register();
    const Ctor = makeGenericClientConstructor(greeterService, 'Greeter');
    client = new Ctor('xds:///greeter', credentials.createInsecure()) as unknown as Greeter;
  });

  after(() => {
    client?.close();
    server.close();
    b.server.forceShutdown();
  });

  test('an identical Listener after its removal is ignored: the channel stays UNAVAILABLE', async () => {
    assert.equal(await firstAnswer(client!, 5000), 'b1');
    server.set(LDS, []);
    assert.ok(await firstFailure(client!, 5000), 'the removal reached the channel');
    server.set(LDS, mesh(b.port).default![LDS]!);
    const answer = await firstAnswer(client!, 3000);
    assert.equal(answer, undefined, 'grpc-js-xds now recovers from an identical Listener: the upstream bug is fixed, see docs/upstream/grpc-js-xds-reappearing-resource.md');
  });

  test('the same Listener in other bytes brings the channel back', async () => {
    server.set(LDS, mesh(b.port, 'greeter-respelled').default![LDS]!);
    assert.equal(await firstAnswer(client!, 5000), 'b1');
  });
});
