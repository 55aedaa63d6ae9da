/** `trellis ztunnel` as a process: flags it cannot use are one-line usage errors (exit 1) before anything starts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { trellisBin } from '../../helpers/trellis-process.js';

const run = (args: string[]) => spawnSync(process.execPath, [trellisBin, 'ztunnel', '--node-name', 'n', ...args], { encoding: 'utf8', timeout: 20_000 });

test('trellis ztunnel: bad flags are usage errors naming the flag', () => {
  for (const [args, why] of [
    [['--xds-address', 'istiod'], /^trellis: --xds-address: not HOST:PORT: istiod\n$/],
    [['--xds-address', '127.0.0.1:1', '--token-file', '/nonexistent/token'], /^trellis: --token-file: \/nonexistent\/token does not exist\n$/],
    [['--xds-address', '127.0.0.1:1', '--readiness-port', '70000'], /^trellis: --readiness-port: not a port number: 70000\n$/],
  ] as const) {
    const r = run([...args]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, why);
    assert.equal(r.stdout, '', 'nothing started');
  }
});
