/**
 * Issue 8: a port already in use is a one-line error that says so — the port,
 * EADDRINUSE, and the flag that picks another — from the real binaries.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { trellisBin } from '../../helpers/trellis-process.js';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/grpc-split', import.meta.url));

function run(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [trellisBin, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stderr: r.stderr };
}

describe('a port in use', () => {
  let taken: net.Server;
  let port = 0;

  before(async () => {
    taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    port = (taken.address() as net.AddressInfo).port;
  });

  after(() => new Promise<void>((r) => taken.close(() => r())));

  const cases: Array<[string, (p: number) => string[], string]> = [
    ['controlplane --xds-port', (p) => ['controlplane', '--config-dir', EXAMPLE, '--xds-port', String(p), '--debug-port', '0'], '--xds-port'],
    ['controlplane --debug-port', (p) => ['controlplane', '--config-dir', EXAMPLE, '--xds-port', '0', '--debug-port', String(p)], '--debug-port'],
    ['proxy --admin-port', (p) => ['proxy', '--xds-address', '127.0.0.1:1', '--node-id', 'sidecar~127.0.0.1~p.default~default.svc.cluster.local', '--admin-port', String(p)], '--admin-port'],
  ];
  for (const [name, args, flag] of cases) {
    test(`${name}: exit 1 with the port, EADDRINUSE and the flag`, () => {
      const r = run(args(port));
      assert.equal(r.code, 1, r.stderr);
      const line = r.stderr.split('\n').find((l) => l.startsWith('trellis: ')) ?? '';
      assert.match(line, new RegExp(`port ${port} is in use \\(EADDRINUSE\\): choose another with ${flag}`));
    });
  }
});
