import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema } from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { AdsServer } from '../../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../../src/controlplane/metrics/metrics.js';
import { setVersion } from '../../../src/controlplane/wire/resource.js';
import { logger } from '../../../src/log.js';
import { CDS, EDS, FakeGenerator, LDS, RDS, cluster, endpoints, listener, route, type FakeMesh } from './fake-generator.js';
import { parseNode, parseNodeId } from '../../../src/xds/parse-node.js';
import { TestAdsClient, namesOf, nodeId, waitFor } from '../../helpers/ads-client.js';

function mesh(reviewsDomains: string[] = ['reviews'], ratingsTimeout = 1): FakeMesh {
  return {
    default: {
      [CDS]: [cluster('outbound|9080||reviews'), cluster('outbound|9080||ratings', ratingsTimeout)],
      [EDS]: [endpoints('outbound|9080||reviews'), endpoints('outbound|9080||ratings')],
      [LDS]: [listener('0.0.0.0_9080', 9080)],
      [RDS]: [route('9080', reviewsDomains), route('8080', ['other'])],
    },
    other: {
      [CDS]: [cluster('outbound|80||web')],
      [LDS]: [listener('0.0.0.0_80', 80)],
      [RDS]: [route('80', ['web'])],
    },
  };
}

describe('ADS SotW', () => {
  let server: AdsServer;
  let client: TestAdsClient;
  let gen: FakeGenerator;
  const metrics = new Metrics();

  before(async () => {
    gen = new FakeGenerator(mesh());
    server = new AdsServer({ generator: gen, parseNode, metrics, log: logger('test-ads') });
    const port = await server.listen('127.0.0.1', 0);
    client = new TestAdsClient(port);
  });

  after(async () => {
    client.close();
    await server.close();
  });

  test('initial wildcard CDS response carries all clusters and version = setVersion', async () => {
    const s = client.sotw(nodeId('a', 'default'));
    s.request(CDS);
    const res = await s.next();
    assert.equal(res.typeUrl, CDS);
    assert.deepEqual(namesOf(res), ['outbound|9080||ratings', 'outbound|9080||reviews']);
    assert.equal(res.versionInfo, setVersion(gen.generate(parseNodeId(nodeId('a', 'default')), CDS, undefined)));
    assert.notEqual(res.nonce, '');
    s.close();
  });

  test('ACK makes the type SYNCED; before the ACK it is STALE', async () => {
    const id = nodeId('ack', 'default');
    const s = client.sotw(id);
    s.request(LDS);
    const res = await s.next();
    await waitFor(() => server.findProxy(id)?.types.get(LDS)?.sent !== undefined);
    assert.equal(statusOf(server, id, 'LDS').status, 'STALE');
    s.ack(res);
    await waitFor(() => statusOf(server, id, 'LDS').status === 'SYNCED');
    const st = statusOf(server, id, 'LDS');
    assert.deepEqual(st.acked, { version: res.versionInfo, nonce: res.nonce });
    assert.equal(statusOf(server, id, 'RDS').status, 'NOT SENT');
    s.close();
  });

  test('NACK: STALE with the error recorded, counted, and the same version is not re-sent', async () => {
    const id = nodeId('nack', 'default');
    const s = client.sotw(id);
    s.request(CDS);
    const res = await s.next();
    const rejectsBefore = metrics.counter('pilot_total_xds_rejects', '', ['type']).value({ type: 'cds' });
    s.nack(res, 'cluster outbound|9080||reviews: bad thing');
    await waitFor(() => statusOf(server, id, 'CDS').nack !== undefined);
    const st = statusOf(server, id, 'CDS');
    assert.equal(st.status, 'STALE');
    assert.equal(st.nack?.nonce, res.nonce);
    assert.equal(st.nack?.error, 'cluster outbound|9080||reviews: bad thing');
    assert.equal(metrics.counter('pilot_total_xds_rejects', '', ['type']).value({ type: 'cds' }), rejectsBefore + 1);
    server.push();
    assert.equal(await s.quiet(200), true, 'the rejected version must not be re-sent');
    s.close();
  });

  test('stale nonce is ignored', async () => {
    const id = nodeId('stale', 'default');
    const s = client.sotw(id);
    s.request(CDS);
    const first = await s.next();
    s.ack(first);
    await waitFor(() => statusOf(server, id, 'CDS').status === 'SYNCED');
    s.nack(first, 'late complaint about an old nonce'); // same nonce, already acked, still the latest
    await waitFor(() => statusOf(server, id, 'CDS').nack !== undefined);
    s.request(CDS, [], 'not-a-nonce-we-sent', first.versionInfo);
    assert.equal(await s.quiet(150), true);
    assert.equal(statusOf(server, id, 'CDS').nack?.nonce, first.nonce);
    s.close();
  });

  test('RDS: named subscription, then a changed name set gets the new set', async () => {
    const id = nodeId('rds', 'default');
    const s = client.sotw(id);
    s.request(RDS, ['9080']);
    const r1 = await s.next();
    assert.deepEqual(namesOf(r1), ['9080']);
    s.ack(r1, ['9080', '8080', 'missing']);
    const r2 = await s.next();
    assert.deepEqual(namesOf(r2), ['8080', '9080']);
    assert.notEqual(r2.versionInfo, r1.versionInfo);
    s.ack(r2, ['9080', '8080', 'missing']);
    assert.equal(await s.quiet(150), true, 'an ACK with an unchanged name set gets no response');
    s.close();
  });

  test('push sends only changed types, only to affected proxies', async () => {
    const a = client.sotw(nodeId('pa', 'default'));
    const b = client.sotw(nodeId('pb', 'other'));
    for (const s of [a, b]) {
      for (const t of [CDS, LDS]) {
        s.request(t);
        s.ack(await s.next());
      }
    }
    a.request(RDS, ['9080']);
    a.ack(await a.next(), ['9080']);
    b.request(RDS, ['80']);
    b.ack(await b.next(), ['80']);
    await waitFor(() => statusOf(server, nodeId('pb', 'other'), 'RDS').status === 'SYNCED');

    gen = new FakeGenerator(mesh(['reviews', 'reviews.default.svc.cluster.local']));
    server.setGenerator(gen);
    const stats = server.push();
    assert.ok(stats.proxies >= 2);
    const res = await a.next();
    assert.equal(res.typeUrl, RDS);
    assert.deepEqual(namesOf(res), ['9080']);
    assert.equal(await a.quiet(150), true, 'proxy a: only RDS changed');
    assert.equal(await b.quiet(10), true, 'proxy b is in another namespace: nothing changed');
    a.close();
    b.close();
  });

  test('push order is CDS, EDS, LDS, RDS when everything changes', async () => {
    const s = client.sotw(nodeId('order', 'default'));
    s.request(LDS);
    s.ack(await s.next());
    s.request(RDS, ['9080']);
    s.ack(await s.next(), ['9080']);
    s.request(EDS, ['outbound|9080||ratings']);
    s.ack(await s.next(), ['outbound|9080||ratings']);
    s.request(CDS);
    s.ack(await s.next());
    const changed = mesh(['x'], 5);
    changed.default[LDS] = [listener('0.0.0.0_9080', 9081)];
    changed.default[EDS] = [endpoints('outbound|9080||reviews'), endpoints('outbound|9080||ratings')].map((r) => ({ ...r, version: r.version + 'x' }));
    server.setGenerator(new FakeGenerator(changed));
    server.push();
    const order = [];
    for (let i = 0; i < 4; i++) order.push((await s.next()).typeUrl);
    assert.deepEqual(order, [CDS, EDS, LDS, RDS]);
    server.setGenerator(gen);
    s.close();
  });

  test('a first request without a node ends the stream with INVALID_ARGUMENT', async () => {
    const s = client.sotw('');
    s.send(create(DiscoveryRequestSchema, { typeUrl: CDS }));
    await waitFor(() => s.error !== undefined);
    assert.equal((s.error as { code?: number }).code, 3);
  });

  test('a generator failure is counted as an internal error and the stream stays up', async () => {
    const id = nodeId('fail', 'default');
    const s = client.sotw(id);
    const failing = new FakeGenerator(mesh());
    failing.failOn = LDS;
    server.setGenerator(failing);
    const errs = metrics.counter('pilot_total_xds_internal_errors', '').value();
    s.request(LDS);
    assert.equal(await s.quiet(150), true);
    assert.equal(metrics.counter('pilot_total_xds_internal_errors', '').value(), errs + 1);
    s.request(CDS);
    assert.equal((await s.next()).typeUrl, CDS);
    server.setGenerator(gen);
    s.close();
  });

  test('disconnect removes the proxy and updates pilot_xds', async () => {
    const id = nodeId('bye', 'default');
    const s = client.sotw(id);
    s.request(CDS);
    await s.next();
    const before = metrics.gauge('pilot_xds', '').value();
    s.close();
    await waitFor(() => server.findProxy(id) === undefined);
    assert.equal(metrics.gauge('pilot_xds', '').value(), before - 1);
  });
});

function statusOf(server: AdsServer, id: string, type: string) {
  const e = server.syncStatus().filter((p) => p.nodeId === id).at(-1);
  assert.ok(e, `proxy ${id} not connected`);
  return e.types[type];
}
