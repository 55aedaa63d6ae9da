/** `trellis iptables ambient` as a process: dry-run output (nothing applied), shared flags, one-line errors. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { renderRestore } from '../../../src/iptables/index.js';
import { buildHostProbeRules, buildInpodRules, defaultInpodConfig } from '../../../src/ztunnel/redirect/index.js';

const CLI = fileURLToPath(new URL('../../integration/interception/cli-entry.js', import.meta.url));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'iptables', 'ambient', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('trellis iptables ambient (process)', () => {
  test('--dry-run prints both families and the reply route, with `trellis iptables` flags after the subcommand', () => {
    const r = cli(['--dry-run', '--redirect-dns', '--ingress', '--virtual-interfaces', 'vm0']);
    assert.equal(r.code, 0, r.stderr);
    const rules = buildInpodRules({ ...defaultInpodConfig(), redirectDns: true, ingressMode: true, virtualInterfaces: ['vm0'], ipv6: true });
    assert.equal(r.stdout, `# iptables-restore --noflush\n${renderRestore(rules.v4)}# ip6tables-restore --noflush\n${renderRestore(rules.v6)}`
      + '# ip -4 rule add fwmark 0x111/0xfff pref 32764 lookup 100\n# ip -4 route replace local 0.0.0.0/0 dev lo table 100\n'
      + '# ip -6 rule add fwmark 0x111/0xfff pref 32764 lookup 100\n# ip -6 route replace local ::/0 dev lo table 100\n');
  });

  test('--no-ipv6 and --pod-dns disabled are honoured; --host-rules prints the node side', () => {
    const r = cli(['--no-ipv6', '--redirect-dns', '--pod-dns', 'disabled', '-n']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /ip6tables|15053|-6 rule/);
    assert.match(r.stdout, /--to-ports 15001/);
    const host = cli(['--host-rules', '--no-ipv6', '--dry-run', '--probe-snat-address', '169.254.9.9']);
    assert.equal(host.stdout, `# iptables-restore --noflush\n${renderRestore(buildHostProbeRules({ ...defaultInpodConfig(), probeSnatV4: '169.254.9.9' }).v4)}`);
  });

  test('invalid flags: every problem on its own line, exit code 2, nothing applied', () => {
    const r = cli(['--virtual-interfaces', 'ok0,bad name', '--probe-snat-address', '::1', '--host-rules']);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    for (const l of lines) assert.match(l, /^trellis iptables ambient: --(virtual-interfaces\[1\]|probe-snat-address|host-rules): /);
    assert.equal(r.stdout, '');
  });
});
