/**
 * Issue 8, defect 4, end to end: the real `trellis controlplane` on the
 * grpc-split example, a real proxyless client (`trellis demo client`, i.e.
 * @grpc/grpc-js-xds in its own process) calling two real greeter servers,
 * and the config directory deleted, emptied and restored under them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGreeterServer } from '../../../src/demo/greeter-server.js';
import { freePort } from '../../helpers/ports.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const exampleDir = fileURLToPath(new URL('../../../../examples/grpc-split/', import.meta.url));
/** Short enough for a test, long enough for a refill of a few files. */
const emptyHoldMs = 1500;

interface Call {
  i: number;
  from?: string;
  error?: string;
  at: number;
}

describe('a vanished or emptied config directory under a connected proxyless client', () => {
  let root: string;
  let dir: string;
  let aside: string;
  let debug: string;
  let cp_: TrellisProcess;
  let client: TrellisProcess;
  const servers: { close(): Promise<void> }[] = [];
  const calls: Call[] = [];

  const errorsSince = (t: number) => calls.filter((c) => c.at >= t && c.error);
  const answeredSince = (t: number) => calls.filter((c) => c.at >= t && c.from);
  /** Serving again: the last 10 calls since `t` were all answered (one answer can precede a last transitional error). */
  const steady = (t: number) => {
    const recent = calls.filter((c) => c.at >= t).slice(-10);
    return recent.length === 10 && recent.every((c) => c.from);
  };
  const get = async (path: string) => {
    const res = await fetch(`${debug}${path}`);
    return { status: res.status, body: await res.text() };
  };
  /** Moves every file of the config directory out (or back), one rename each, as `mv *.yaml` does. */
  const moveAll = async (from: string, to: string, only?: string[]) => {
    for (const f of only ?? (await readdir(from))) await rename(join(from, f), join(to, f));
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trellis-vanish-'));
    dir = join(root, 'conf');
    aside = join(root, 'aside');
    await mkdir(aside);
    await cp(exampleDir, dir, { recursive: true });
    const port = await freePort('127.0.0.2');
    const greeter = join(dir, 'greeter.yaml');
    await writeFile(greeter, (await readFile(greeter, 'utf8')).replaceAll('50051', String(port)));
    servers.push(await startGreeterServer(`127.0.0.2:${port}`, 'v1'));
    servers.push(await startGreeterServer(`127.0.0.3:${port}`, 'v2'));

    cp_ = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0', '--empty-hold-ms', String(emptyHoldMs)]);
    const ready = jsonLine<{ xds: string; debug: string }>(await cp_.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
    debug = `http://${ready.debug}`;
    client = new TrellisProcess([
      'demo', 'client',
      '--target', `xds:///greeter.default.svc.cluster.local:${port}`,
      '--xds', ready.xds,
      '--node-id', 'sidecar~127.0.0.9~vanish-client.default~default.svc.cluster.local',
      '--count', '0',
      '--interval-ms', '20',
    ]);
    client.onLine((line) => {
      const c = jsonLine<Call>(line);
      if (c && typeof c.i === 'number') calls.push({ ...c, at: Date.now() });
    });
    await waitFor(() => answeredSince(0).length >= 20, 20_000, () => `calls: ${JSON.stringify(calls.at(-1))}`);
  });

  after(async () => {
    await client?.stop();
    await cp_?.stop();
    await Promise.all(servers.map((s) => s.close()));
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('deleted: the last config is served and the outage is reported loudly, until the directory is back', async () => {
    const t0 = Date.now();
    await rename(dir, join(root, 'away'));
    let problems: { code: string; file: string; line: number; reason: string }[] = [];
    await waitFor(async () => {
      problems = JSON.parse((await get('/debug/config_problems')).body);
      return problems.some((p) => p.code === 'CONFIG_SOURCE');
    }, 6000, () => JSON.stringify(problems));
    const p = problems.find((p) => p.code === 'CONFIG_SOURCE')!;
    assert.equal(p.file, dir);
    assert.match(p.reason, /ENOENT/);

    const ready = await get('/ready');
    assert.equal(ready.status, 503);
    assert.match(ready.body, /^not ready: config source unavailable: .*ENOENT/);
    assert.match((await get('/metrics')).body, /^trellis_config_source_up 0$/m);
    // The periodic rescan (2 s) fails again meanwhile; the log says it once.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(cp_.stderr.filter((l) => l.includes('config directory scan failed')).length, 1, cp_.stderr.join('\n'));
    assert.deepEqual(errorsSince(t0), [], 'the client kept its configuration');
    assert.ok(answeredSince(t0).length > 0);

    await rename(join(root, 'away'), dir);
    await waitFor(async () => (await get('/ready')).status === 200, 6000, () => 'still not ready');
    assert.deepEqual(JSON.parse((await get('/debug/config_problems')).body), []);
    assert.match((await get('/metrics')).body, /^trellis_config_source_up 1$/m);
    assert.deepEqual(errorsSince(t0), []);
  });

  test('emptied and refilled within the hold: the client never sees a failure', async () => {
    const t0 = Date.now();
    await moveAll(dir, aside);
    await new Promise((r) => setTimeout(r, 300));
    await moveAll(aside, dir);
    await waitFor(() => cp_.stderr.some((l) => l.includes('the empty state was never served')), 3000, () => 'no log line');
    await new Promise((r) => setTimeout(r, emptyHoldMs));
    assert.deepEqual(errorsSince(t0), []);
    assert.ok(answeredSince(t0).length > 0);
  });

  test("a service's files removed and restored unchanged: serving again within seconds", async () => {
    const files = ['greeter.yaml', 'routing.yaml'];
    const removedAt = Date.now();
    await moveAll(dir, aside, files);
    await waitFor(() => errorsSince(removedAt).length > 0, 5000, () => 'the removal never reached the client');
    const restoredAt = Date.now();
    await moveAll(aside, dir, files);
    await waitFor(() => steady(restoredAt), 5000, () => `last call: ${JSON.stringify(calls.at(-1))}`);
  });

  test('emptied past the hold: served empty (the client fails), and serving again within seconds of the refill', async () => {
    const removedAt = Date.now();
    await moveAll(dir, aside);
    await waitFor(() => errorsSince(removedAt).length > 0, emptyHoldMs + 5000, () => 'the empty config never reached the client');
    const failedAfter = errorsSince(removedAt)[0]!.at - removedAt;
    assert.ok(failedAfter >= emptyHoldMs, `the client failed ${failedAfter} ms after the directory emptied, before the hold ran out`);
    assert.ok(cp_.stderr.some((l) => l.includes('serving an empty config')));
    const restoredAt = Date.now();
    await moveAll(aside, dir);
    await waitFor(() => steady(restoredAt), 5000, () => `last call: ${JSON.stringify(calls.at(-1))}`);
  });
});

/** Polls `cond` every 20 ms until it holds; rejects after `timeoutMs` with `describe_()`. */
async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, describe_: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe_()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
