/**
 * Istio's istio-iptables goldens: for each case of the conformance table,
 * the equivalent `trellis iptables` flags must render the same rules (chain
 * names ISTIO_ → TRELLIS_, our owner comment aside), table by table, in order.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { buildCaptureRules, parseIptablesArgs, renderRestore } from '../../../src/iptables/index.js';
import { GOLDEN_DIR, normaliseFamilies, readGolden } from './golden.js';

/** The README's base configuration, as flags (istio-iptables' bare defaults, IPv6 off). */
const BASE = ['-p', '15001', '-z', '15006', '-e', '15008', '-u', '1337', '-g', '1337', '-b', '', '-d', '', '-i', '',
  '--host-ipv4-loopback-cidr', '127.0.0.1/32', '--no-ipv6'];
const DNS = ['--redirect-dns', '--dns-servers', '127.0.0.53'];
const UIDGID = ['-g', '1,2', '-u', '3,4'];

const CASES: Record<string, string[]> = {
  empty: [],
  ipnets: ['-i', '10.0.0.0/8'],
  'ip-range': ['-x', '1.1.0.0/16', '-i', '9.9.0.0/16', ...DNS, ...UIDGID],
  tproxy: ['-m', 'TPROXY', '-b', '*', '-x', '1.1.0.0/16', '-i', '9.9.0.0/16', ...DNS, '-c', 'not-istio-nic', '--ipv6'],
  'inbound-ports-include': ['-b', '32000,31000'],
  'inbound-ports-wildcard': ['-b', '*'],
  'inbound-ports-tproxy': ['-b', '32000,31000', '-m', 'TPROXY'],
  'inbound-ports-wildcard-tproxy': ['-b', '*', '-m', 'TPROXY'],
  'outbound-ports-include': ['-q', '32000,31000'],
  'kube-virt-interfaces': ['-k', 'eth1,eth2', '-i', '*'],
  'ipnets-with-kube-virt-interfaces': ['-k', 'eth1,eth2', '-i', '10.0.0.0/8'],
  'dns-uid-gid': ['--redirect-dns', '--dns-servers', '127.0.0.53,::127.0.0.53', ...UIDGID, '--ipv6'],
  // The README says "DNS capture" for the next three, but their goldens hold no DNS rule at
  // all (Istio found no DNS server there); the equivalent flags therefore leave DNS off.
  'ipv6-dns-uid-gid': ['--ipv6', ...UIDGID],
  'ipv6-dns-outbound-owner-groups': ['--ipv6', '--istio-outbound-owner-groups', 'java,202'],
  'ipv6-dns-outbound-owner-groups-exclude': ['--ipv6', '--istio-outbound-owner-groups-exclude', '888,ftp'],
  'outbound-owner-groups': ['--istio-outbound-owner-groups', 'java,202'],
  'outbound-owner-groups-exclude': ['--istio-outbound-owner-groups-exclude', '888,ftp'],
  'loopback-outbound-iprange': ['-i', '127.1.2.3/32', ...DNS, ...UIDGID],
  'basic-exclude-nic': ['-c', 'not-istio-nic'],
  'drop-invalid': ['--drop-invalid'],
  'host-ipv4-loopback-cidr': ['--host-ipv4-loopback-cidr', '127.0.0.1/8'],
  'ipv6-empty-inbound-ports': ['--ipv6'],
  'ipv6-inbound-ports': ['-b', '4000,5000', '--ipv6'],
  'ipv6-virt-interfaces': ['-b', '4000,5000', '-k', 'eth0,eth1', '--ipv6'],
  'ipv6-ipnets': ['-b', '4000,5000', '-d', '6000,7000', '-k', 'eth0,eth1', '-x', '2001:db8::/32', '-i', '2001:db8::/32', '--ipv6'],
  'ipv6-uid-gid': ['-b', '4000,5000', '-d', '6000,7000', '-k', 'eth0,eth1', '-x', '2001:db8::/32', '-i', '2001:db8::/32', '--ipv6', ...UIDGID],
  'ipv6-outbound-ports': ['-q', '32000,31000', '--ipv6'],
};

function render(flags: string[]) {
  const parsed = parseIptablesArgs([...BASE, ...flags]);
  assert.deepEqual(parsed.errors, []);
  const rules = buildCaptureRules(parsed.config);
  return { v4: renderRestore(rules.v4), v6: renderRestore(rules.v6) };
}

describe('istio-iptables goldens', { skip: !existsSync(GOLDEN_DIR) && 'conformance data not present' }, () => {
  test('every golden has a case', () => {
    const goldens = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.golden')).map((f) => f.replace(/\.golden$/, ''));
    assert.deepEqual(goldens.sort(), Object.keys(CASES).sort());
  });

  for (const [name, flags] of Object.entries(CASES)) {
    test(name, () => {
      const want = normaliseFamilies(readGolden(name));
      const got = normaliseFamilies(render(flags));
      assert.deepEqual(got.v4, want.v4, `IPv4 rules of ${name}`);
      assert.deepEqual(got.v6, want.v6, `IPv6 rules of ${name}`);
    });
  }
});
