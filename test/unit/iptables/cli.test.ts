/** `trellis iptables` as a process: dry-run output, and one-line errors with exit code 2. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildCaptureRules, parseIptablesArgs, renderRestore } from '../../../src/iptables/index.js';

const CLI = fileURLToPath(new URL('../../integration/interception/cli-entry.js', import.meta.url));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [CLI, 'iptables', ...args], { encoding: 'utf8', env, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('trellis iptables (process)', () => {
  test('--dry-run prints the restore input of both families and changes nothing', () => {
    const flags = ['-i', '10.0.0.0/8', '-b', '8080', '--redirect-dns', '--dns-servers', '10.96.0.10'];
    const r = cli([...flags, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const rules = buildCaptureRules(parseIptablesArgs(flags).config);
    assert.equal(r.stdout, `# iptables-restore --noflush\n${renderRestore(rules.v4)}# ip6tables-restore --noflush\n${renderRestore(rules.v6)}`);
  });

  test('ISTIO_META_DNS_CAPTURE=true captures DNS without --redirect-dns (istio-iptables\' default from the same variable)', () => {
    const flags = ['--no-ipv6', '--dns-servers', '10.96.0.10'];
    const off = cli([...flags, '--dry-run'], { ...process.env, ISTIO_META_DNS_CAPTURE: 'false' });
    assert.doesNotMatch(off.stdout, /15053/);
    const on = cli([...flags, '--dry-run'], { ...process.env, ISTIO_META_DNS_CAPTURE: 'true' });
    assert.equal(on.code, 0, on.stderr);
    assert.equal(on.stdout, `# iptables-restore --noflush\n${renderRestore(buildCaptureRules(parseIptablesArgs([...flags, '--redirect-dns']).config).v4)}`);
  });

  test('--no-ipv6 --dry-run prints IPv4 only', () => {
    const r = cli(['--no-ipv6', '--dry-run']);
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.stdout, /ip6tables/);
    assert.match(r.stdout, /-A TRELLIS_OUTPUT -j TRELLIS_REDIRECT/);
  });

  test('invalid flags: every problem on its own line, exit code 2, no stack trace', () => {
    const r = cli(['-p', 'x', '-x', '*']);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, /^trellis iptables: -[px]\//);
    assert.equal(r.stdout, '');
  });

  test('missing binaries: a clear line, exit code 2', () => {
    // PATH points nowhere, so no iptables binary can be found (and none is run).
    const r = cli([], { PATH: '/nonexistent' });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^trellis iptables: iptables not found: install the iptables/);
  });
});
