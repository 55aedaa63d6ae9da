/**
 * `trellis describe pod` and `trellis tls-check` on the fixture mesh, judged
 * from what the real control plane serves at /debug/configz, and from the
 * same directory read with --config-dir (no mesh running): the same answer
 * both ways, with the services, subsets, routes, mTLS modes and policies
 * that affect each pod, and the conflicts between client and server TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureDir, run, startControlPlane, stopAll, table, type ControlPlane } from './mesh.js';

const TLS = ['HOST:PORT', 'STATUS', 'SERVER', 'CLIENT', 'AUTHN POLICY', 'DESTINATION RULE'];

describe('trellis describe pod, tls-check', () => {
  let cpl: ControlPlane;
  let live: string[];

  before(async () => {
    cpl = await startControlPlane();
    live = ['--control-plane', cpl.debug];
  });
  after(() => stopAll(cpl));

  test('/debug/configz: the accepted objects, each with its file and line', async () => {
    const objects = (await (await fetch(`http://${cpl.debug}/debug/configz`)).json()) as { kind: string; metadata: { name: string }; origin: { file: string; line: number } }[];
    const pa = objects.find((o) => o.kind === 'PeerAuthentication' && o.metadata.name === 'reviews-permissive');
    assert.deepEqual(pa?.origin, { file: 'security.yaml', line: 7 });
    assert.equal(objects.filter((o) => o.kind === 'Pod').length, 6);
  });

  test('describe pod reviews-v1: service and port, subsets, the route that reaches it, mTLS per port, policies', async () => {
    for (const source of [live, ['--config-dir', fixtureDir]]) {
      const r = await run(['describe', 'pod', 'reviews-v1', ...source]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      const expectInOrder = [
        'Pod: reviews-v1',
        '   Pod Ports: 9080 (reviews)',
        'Service: reviews',
        '   Port: http 9080/HTTP targets pod port 9080',
        'DestinationRule: reviews for "reviews"',
        '   Matching subsets: v1',
        '      (Non-matching subsets v2,v3)',
        '   Traffic Policy TLS Mode: ISTIO_MUTUAL',
        'VirtualService: reviews',
        '   Route to host "reviews" subset "v1" with weight 90%',
        '   1 additional destination(s) that will not reach this pod',
        'Effective PeerAuthentication:',
        '   Workload mTLS mode: STRICT',
        '   Port Level mTLS mode:',
        '      9080: PERMISSIVE',
        'Applied PeerAuthentication:',
        '   default.default, reviews-permissive.default',
        'Applied AuthorizationPolicy:',
        '   reviews-viewer.default (ALLOW)',
      ];
      let at = -1;
      for (const want of expectInOrder) {
        const i = lines.indexOf(want, at + 1);
        assert.ok(i > at, `${JSON.stringify(want)} after line ${at} in:\n${r.stdout}`);
        at = i;
      }
    }
  });

  test('describe pod reviews-v2 (the header route), sleep.legacy (no sidecar); an unknown pod lists the known ones', async () => {
    const v2 = await run(['describe', 'pod', 'reviews-v2', ...live]);
    assert.match(v2.stdout, /^ {3}Route to host "reviews" subset "v2" with weight 100%\n {3}Match: when headers are end-user=jason$/m);
    assert.match(v2.stdout, /^ {3}Route to host "reviews" subset "v2" with weight 10%$/m);
    const sleep = await run(['describe', 'pod', 'sleep', '-n', 'legacy', ...live]);
    assert.match(sleep.stdout, /^WARNING: sleep is not part of mesh; no Istio sidecar$/m);
    assert.match(sleep.stdout, /^Warning: No Kubernetes Services select pod sleep$/m);
    assert.match(sleep.stdout, /^No AuthorizationPolicy applies/m);
    const nope = await run(['describe', 'pod', 'details-v1', ...live]);
    assert.equal(nope.code, 1);
    assert.match(nope.stderr, /pod "details-v1" not found .*known pods: db-0\.default, productpage-v1\.default, ratings-v1\.default, reviews-v1\.default, reviews-v2\.default, sleep\.legacy/);
    assert.equal((await run(['describe', 'pod'])).code, 2, 'POD is required');
  });

  test('tls-check from productpage-v1: ratings disables TLS towards a STRICT server — CONFLICT, exit 1', async () => {
    for (const source of [live, ['--config-dir', fixtureDir]]) {
      const r = await run(['tls-check', 'productpage-v1', ...source]);
      assert.equal(r.code, 1, r.stderr);
      const rows = table(r.stdout, TLS).map((x) => TLS.map((c) => x[c]).join(' | '));
      assert.deepEqual(rows, [
        'db.default.svc.cluster.local:5432 | OK | STRICT | ISTIO_MUTUAL (auto) | default.default | -',
        'productpage.default.svc.cluster.local:9080 | OK | STRICT | ISTIO_MUTUAL (auto) | default.default | -',
        'ratings.default.svc.cluster.local:9080 | CONFLICT | STRICT | DISABLE | default.default | ratings.default',
        'reviews.default.svc.cluster.local:9080 | OK | PERMISSIVE | ISTIO_MUTUAL | reviews-permissive.default | reviews.default',
      ]);
      assert.match(r.stdout, /^CONFLICT ratings\.default\.svc\.cluster\.local:9080: plain text to a server whose PeerAuthentication is STRICT$/m);
    }
  });

  test('tls-check HOST narrows to one service; a client without a sidecar conflicts with every STRICT server', async () => {
    const reviews = await run(['tls-check', 'productpage-v1', 'reviews', ...live]);
    assert.equal(reviews.code, 0, 'no conflict: exit 0');
    assert.deepEqual(table(reviews.stdout, TLS).map((x) => x['HOST:PORT']), ['reviews.default.svc.cluster.local:9080']);
    const sleep = await run(['tls-check', 'sleep.legacy', ...live]);
    const rows = table(sleep.stdout, TLS);
    assert.ok(rows.every((x) => x['CLIENT'] === 'DISABLE (no sidecar)'));
    assert.deepEqual(rows.filter((x) => x['STATUS'] === 'CONFLICT').map((x) => x['HOST:PORT']), ['db.default.svc.cluster.local:5432', 'productpage.default.svc.cluster.local:9080', 'ratings.default.svc.cluster.local:9080']);
    assert.equal((await run(['tls-check', 'productpage-v1', 'nosuchservice', ...live])).stdout, `no destinations matching nosuchservice in the control plane ${cpl.debug}\n`);
  });
});
