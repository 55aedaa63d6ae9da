/**
 * Istio's CNI goldens (ambient in-pod redirection): for each case, the
 * renderer given the same settings must produce the same rules (chain names
 * ISTIO_ → TRELLIS_, our owner comment aside), table by table, in order —
 * the same comparison as the istio-iptables goldens (test/unit/iptables).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { renderRestore } from '../../../src/iptables/index.js';
import {
  buildHostProbeRules, buildInpodRules, defaultInpodConfig, type InpodConfig,
} from '../../../src/ztunnel/redirect/index.js';
import { normaliseFamilies, readGolden } from '../iptables/golden.js';

const DIR = '/work/shared/conformance/istio-cni';
const VIFS = ['fake1s0f0', 'fake1s0f1'];

/** The README's base: probe SNAT 169.254.7.127 / e9ac:…:3164 for the pod cases. */
const CASES: Record<string, Partial<InpodConfig>> = {
  default: { redirectDns: true },
  ingress: { ingressMode: true },
  virtual_interfaces: { virtualInterfaces: VIFS },
  ingress_and_virtual_interfaces: { ingressMode: true, virtualInterfaces: VIFS },
  dns_pod_enabled_and_off_globally: { redirectDns: false, podDns: 'enabled' },
  dns_pod_disabled_and_on_globally: { redirectDns: true, podDns: 'disabled' },
};

function config(extra: Partial<InpodConfig>, ipv6: boolean): InpodConfig {
  return { ...defaultInpodConfig(), probeSnatV6: 'e9ac:1e77:90ca:399f:4d6d:ece2:2f9b:3164', ...extra, ipv6 };
}

function render(rules: ReturnType<typeof buildInpodRules>) {
  return normaliseFamilies({ v4: renderRestore(rules.v4), v6: renderRestore(rules.v6) });
}

describe('istio-cni goldens (ambient in-pod rules)', { skip: !existsSync(DIR) && 'conformance data not present' }, () => {
  test('every golden has a case', () => {
    const goldens = readdirSync(DIR).filter((f) => f.endsWith('.golden')).map((f) => f.replace(/(_ipv6)?\.golden$/, ''));
    assert.deepEqual([...new Set(goldens)].sort(), [...Object.keys(CASES), 'hostprobe'].sort());
  });

  for (const [name, extra] of Object.entries(CASES)) {
    for (const ipv6 of [false, true]) {
      const golden = ipv6 ? `${name}_ipv6` : name;
      test(golden, () => {
        const want = normaliseFamilies(readGolden(golden, DIR));
        const got = render(buildInpodRules(config(extra, ipv6)));
        assert.deepEqual(got.v4, want.v4, `IPv4 rules of ${golden}`);
        assert.deepEqual(got.v6, want.v6, `IPv6 rules of ${golden}`);
      });
    }
  }

  for (const ipv6 of [false, true]) {
    const golden = ipv6 ? 'hostprobe_ipv6' : 'hostprobe';
    test(golden, () => {
      const want = normaliseFamilies(readGolden(golden, DIR));
      const got = render(buildHostProbeRules({ ...defaultInpodConfig(), redirectDns: true, ipv6 }));
      assert.deepEqual(got, want);
    });
  }
});

describe('in-pod rules: what each setting changes', () => {
  const base = () => buildInpodRules(config({}, false)).v4.map((r) => `${r.table} ${r.chain} ${r.args.join(' ')}`);

  test('HBONE (15008) is excluded from the inbound redirect; marked traffic is never redirected', () => {
    const inbound = base().filter((l) => l.includes('--to-ports 15006'));
    assert.equal(inbound.length, 1);
    assert.match(inbound[0] as string, /! --dport 15008 -m mark ! --mark 0x539\/0xfff/);
    for (const l of base().filter((x) => x.includes('REDIRECT'))) assert.match(l, /! --mark 0x539\/0xfff/, l);
  });

  test('ingress mode drops only the inbound capture', () => {
    const ingress = buildInpodRules(config({ ingressMode: true }, false)).v4.map((r) => `${r.table} ${r.chain} ${r.args.join(' ')}`);
    assert.deepEqual(base().filter((l) => !ingress.includes(l)).map((l) => l.includes('15006') || l.includes('-s 169.254.7.127')), [true, true]);
  });

  test('an ingress pod jumps to an empty nat chain, which is still declared (else the restore fails)', () => {
    const text = renderRestore(buildInpodRules(config({ ingressMode: true }, false)).v4);
    const nat = text.slice(text.indexOf('*nat'));
    assert.match(nat, /^:TRELLIS_PRERT - \[0:0\]$/m);
    assert.match(nat, /-A PREROUTING -m comment --comment trellis -j TRELLIS_PRERT/);
  });
});
