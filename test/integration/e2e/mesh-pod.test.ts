/**
 * MeshPod's failure paths, on the real kernel: a failing init step and a
 * sidecar that never becomes ready are reported with the step and the
 * process's own words, and leave nothing running in the pod. Needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { MeshPod, sidecarNodeId } from '../../../src/local/mesh-pod.js';
import { NetnsCluster, runInPod, type Pod } from '../../../src/local/netns/index.js';
import { skipReason, TRELLIS } from './two-pod-mesh.js';

const pidsIn = (pod: Pod) => execFileSync('ip', ['netns', 'pids', pod.netns], { encoding: 'utf8' }).trim();

test('sidecarNodeId has Istio\'s shape', () => {
  assert.equal(sidecarNodeId('web-1', '10.244.0.12', 'shop'), 'sidecar~10.244.0.12~web-1.shop~shop.svc.cluster.local');
});

describe('MeshPod failures', { skip: skipReason(), timeout: 30_000 }, () => {
  let cluster: NetnsCluster;
  let pod: Pod;

  before(async () => {
    cluster = await NetnsCluster.create();
    pod = await cluster.addPod('lonely');
  });
  after(async () => {
    await cluster?.teardown();
  });

  test('a failing init step names the step and the cause', async () => {
    await assert.rejects(
      MeshPod.start({ pod, trellis: TRELLIS, xdsAddress: `${cluster.gateway}:15010`, iptablesArgs: ['-m', 'BOGUS'] }),
      /init step trellis iptables failed \(exit 2\).*BOGUS/s,
    );
    assert.equal(pidsIn(pod), '');
  });

  test('a sidecar without a control plane times out, is stopped, and its rules stay as the init step wrote them', async () => {
    const started = Date.now();
    await assert.rejects(
      MeshPod.start({ pod, trellis: TRELLIS, xdsAddress: `${cluster.gateway}:15010`, readyTimeoutMs: 3000 }),
      // Started, but PRE_INITIALIZING (or, on a slow machine, not yet listening).
      /pod lonely: proxy not ready within 3000 ms \(last \/ready: (503 PRE_INITIALIZING|0 .*curl exit 7)/,
    );
    assert.ok(Date.now() - started < 12_000);
    assert.equal(pidsIn(pod), '', 'the proxy was left running');
    const nat = await runInPod(pod, 'iptables-save', ['-t', 'nat']);
    assert.match(nat.stdout, /-A TRELLIS_REDIRECT -p tcp -j REDIRECT --to-ports 15001/);
  });
});
