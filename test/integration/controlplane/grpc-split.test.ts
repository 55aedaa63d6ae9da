/**
 * The "done when": the real `trellis controlplane` on the example
 * config serves a real proxyless gRPC client (@grpc/grpc-js-xds, in its own
 * process) a 90/10 split between two real gRPC servers; an edit of the
 * VirtualService file moves traffic within a second; /debug/syncz shows the
 * client SYNCED.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGreeterServer } from '../../../src/demo/greeter-server.js';
import { freePort } from '../../helpers/ports.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const exampleDir = fileURLToPath(new URL('../../../../examples/grpc-split/', import.meta.url));

interface Call {
  i: number;
  from?: string;
  error?: string;
  at: number;
}

describe('proxyless gRPC through trellis controlplane (examples/grpc-split)', () => {
  let dir: string;
  let port: number;
  let cp_: TrellisProcess;
  let client: TrellisProcess;
  let debug: string;
  const servers: { close(): Promise<void> }[] = [];
  const calls: Call[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-split-'));
    await cp(exampleDir, dir, { recursive: true });
    // The example's pods listen on 127.0.0.2/3:50051; use a free port instead so tests never collide.
    port = await freePort('127.0.0.2');
    for (const f of ['greeter.yaml']) {
      const text = await readFile(join(dir, f), 'utf8');
      await writeFile(join(dir, f), text.replaceAll('50051', String(port)));
    }
    servers.push(await startGreeterServer(`127.0.0.2:${port}`, 'v1'));
    servers.push(await startGreeterServer(`127.0.0.3:${port}`, 'v2'));

    cp_ = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0']);
    const ready = jsonLine<{ xds: string; debug: string }>(await cp_.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
    debug = `http://${ready.debug}`;

    client = new TrellisProcess([
      'demo', 'client',
      '--target', `xds:///greeter.default.svc.cluster.local:${port}`,
      '--xds', ready.xds,
      '--node-id', 'sidecar~127.0.0.9~demo-client.default~default.svc.cluster.local',
      '--count', '0',
      '--interval-ms', '2',
    ]);
    client.onLine((line) => {
      const c = jsonLine<Call>(line);
      if (c && typeof c.i === 'number') calls.push({ ...c, at: Date.now() });
    });
  });

  after(async () => {
    await client?.stop();
    await cp_?.stop();
    await Promise.all(servers.map((s) => s.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('serves a 90/10 split between the two subsets', async () => {
    await waitFor(() => calls.filter((c) => c.from).length >= 400, 20_000, () => `calls: ${calls.length}, last: ${JSON.stringify(calls.at(-1))}`);
    const answered = calls.filter((c) => c.from).slice(0, 400);
    const v2 = answered.filter((c) => c.from === 'v2').length;
    // Binomial(400, 0.1): mean 40, sd 6; 15..75 is beyond 4 sd either side.
    assert.ok(v2 >= 15 && v2 <= 75, `v2 got ${v2}/400 calls`);
    assert.equal(answered.filter((c) => c.from !== 'v1' && c.from !== 'v2').length, 0);
  });

  test('an edit of the VirtualService file moves traffic within a second', async () => {
    const file = join(dir, 'routing.yaml');
    const text = await readFile(file, 'utf8');
    const flipped = text.replace('weight: 90', 'weight: __A').replace('weight: 10', 'weight: 90').replace('weight: __A', 'weight: 10');
    assert.notEqual(flipped, text);
    const before = calls.length;
    const editedAt = Date.now();
    await writeFile(file, flipped);
    // The switch point: the first call after which 24 of the next 30 answers are v2
    // (under the old 90/10 split that has a probability below 1e-15).
    let switchedAt: number | undefined;
    await waitFor(() => {
      const after_ = calls.slice(before).filter((c) => c.from);
      for (let k = 0; k + 30 <= after_.length; k++) {
        if (after_.slice(k, k + 30).filter((c) => c.from === 'v2').length >= 24) {
          switchedAt = after_[k]!.at;
          return true;
        }
      }
      return false;
    }, 10_000, () => `calls since edit: ${calls.length - before}`);
    const took = switchedAt! - editedAt;
    assert.ok(took <= 1000, `traffic moved ${took} ms after the edit`);
  });

  test('/debug/syncz shows the client SYNCED for every type it subscribed to', async () => {
    const res = await fetch(`${debug}/debug/syncz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { proxy: string; types: Record<string, { status: string }> }[];
    const me = body.find((p) => p.proxy.includes('demo-client'));
    assert.ok(me, `client not in syncz: ${JSON.stringify(body)}`);
    for (const t of ['LDS', 'RDS', 'CDS', 'EDS']) assert.equal(me.types[t]?.status, 'SYNCED', `${t}: ${JSON.stringify(me.types[t])}`);
  });
});

async function waitFor(cond: () => boolean, timeoutMs: number, describe_: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe_()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
