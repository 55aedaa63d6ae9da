import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AdsServer } from '../../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../../src/controlplane/metrics/metrics.js';
import { logger, setLogLevels } from '../../../src/log.js';
import { CDS, EDS, FakeGenerator, LDS, RDS, cluster, endpoints, listener, route, type FakeMesh } from './fake-generator.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import { waitFor } from '../../helpers/ads-client.js';

/**
 * Proxies in the fan-out; TRELLIS_FANOUT overrides. This test checks behaviour
 * at scale (one response per proxy, every proxy ACKs); the time it takes is
 * printed, and measured properly by bench/push-fanout, not asserted here.
 */
const count = Number(process.env.TRELLIS_FANOUT ?? 1000);

function mesh(domains: string[]): FakeMesh {
  const clusters = Array.from({ length: 50 }, (_, i) => `outbound|9080||svc${i}`).concat('outbound|9080||reviews');
  return {
    default: {
      [CDS]: clusters.map((c) => cluster(c)),
      [EDS]: clusters.map((c) => endpoints(c)),
      [LDS]: [listener('0.0.0.0_9080', 9080), listener('virtualOutbound', 15001)],
      [RDS]: [route('9080', domains)],
    },
  };
}

for (const mode of ['sotw', 'delta'] as const) {
  describe(`push fan-out (${mode}, ${count} proxies in another process)`, { timeout: 60_000 }, () => {
    let server: AdsServer | undefined;
    let child: ChildProcess | undefined;

    after(async () => {
      if (child && child.exitCode === null) {
        child.send({ exit: true });
        await new Promise((r) => setTimeout(r, 200));
        if (child.exitCode === null) child.kill();
      }
      await server?.close();
    });

    test(`one route change: each of ${count} proxies gets exactly one response and ACKs it`, async () => {
      setLogLevels('test-ads=warn');
      server = new AdsServer({ generator: new FakeGenerator(mesh(['reviews'])), parseNode, metrics: new Metrics(), log: logger('test-ads') });
      const port = await server.listen('127.0.0.1', 0);
      const script = fileURLToPath(new URL('./fanout-client-process.js', import.meta.url));
      child = fork(script, [String(port), String(count), mode], { stdio: 'inherit' });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('clients not ready within 30 s')), 30_000);
        child!.on('message', (m: { ready?: boolean }) => {
          if (m.ready) {
            clearTimeout(timer);
            resolve();
          }
        });
        child!.on('exit', (code) => reject(new Error(`client process exited with ${code}`)));
      });
      await waitFor(() => server!.syncStatus().every((p) => p.types.RDS.status === 'SYNCED'), 10_000);
      assert.equal(server.connections().length, count);

      const started = performance.now();
      server.setGenerator(new FakeGenerator(mesh(['reviews', 'reviews.default'])));
      const stats = server.push();
      const conns = server.connections();
      const target = conns[0].types.get(RDS)!.sent!.version;
      const allAcked = () => conns.every((c) => c.types.get(RDS)!.acked?.version === target);
      await waitFor(allAcked, 10_000);
      const elapsed = performance.now() - started;
      process.stderr.write(`fan-out ${mode}: ${count} proxies, push ${stats.durationMs.toFixed(1)} ms, all ACKed in ${elapsed.toFixed(1)} ms\n`);
      assert.equal(stats.responses, count, 'exactly one (RDS) response per proxy');
    });
  });
}
