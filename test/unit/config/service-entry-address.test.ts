/**
 * ServiceEntry address auto-allocation (issue 13, item 2): Istio's ranges and
 * rules, and the determinism Trellis needs without a status to remember the
 * choice (same entries → same addresses, whatever the order or replica).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateServiceEntryAddresses, allocationKey, autoAllocatedHosts, AUTO_ALLOCATE_LABEL } from '../../../src/config/service-entry-address.js';
import type { ServiceEntry, ServiceEntrySpec } from '../../../src/config/objects.js';

function se(name: string, spec: Partial<ServiceEntrySpec>, ns = 'default', labels?: Record<string, string>): ServiceEntry {
  return { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, spec: { hosts: [`${name}.example.com`], resolution: 'DNS', ...spec } } as ServiceEntry;
}

test('one IPv4 address in 240.240.0.0/16 and the IPv6 address of the same offset in 2001:2::/48 per host', () => {
  const out = allocateServiceEntryAddresses([se('a', {}), se('b', { hosts: ['b1.example.com', 'b2.example.com'], resolution: 'STATIC' })]);
  assert.deepEqual([...out.keys()].sort(), ['default/a.example.com', 'default/b1.example.com', 'default/b2.example.com']);
  for (const { v4, v6 } of out.values()) {
    const m = /^240\.240\.(\d+)\.(\d+)$/.exec(v4);
    assert.ok(m, v4);
    const offset = Number(m[1]) * 256 + Number(m[2]);
    assert.ok(offset >= 1 && offset <= 65534, `${v4}: not the network or broadcast address`);
    assert.equal(v6, `2001:2::${offset.toString(16)}`);
  }
  assert.equal(new Set([...out.values()].map((a) => a.v4)).size, 3);
});

test('Istio\'s rule: entries with addresses, resolution NONE (or unset), wildcards and opted-out entries get none', () => {
  assert.deepEqual(autoAllocatedHosts(se('x', { addresses: ['10.1.2.3'] })), []);
  assert.deepEqual(autoAllocatedHosts(se('x', { resolution: 'NONE' })), []);
  assert.deepEqual(autoAllocatedHosts(se('x', { resolution: undefined })), []);
  assert.deepEqual(autoAllocatedHosts(se('x', {}, 'default', { [AUTO_ALLOCATE_LABEL]: 'False' })), []);
  assert.deepEqual(autoAllocatedHosts(se('x', { hosts: ['*.wild.com', 'tame.com'], resolution: 'DNS_ROUND_ROBIN' })), ['tame.com']);
  assert.deepEqual(autoAllocatedHosts(se('x', {}, 'default', { [AUTO_ALLOCATE_LABEL]: 'true' })), ['x.example.com']);
});

test('stable: the same entries in any order give the same addresses; a newcomer moves nobody off their address', () => {
  const many = Array.from({ length: 300 }, (_, i) => se(`svc${i}`, {}, i % 2 ? 'ns1' : 'ns2'));
  const a = allocateServiceEntryAddresses(many);
  const b = allocateServiceEntryAddresses([...many].reverse());
  assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort());
  const c = allocateServiceEntryAddresses([...many, se('newcomer', {})]);
  const moved = [...a].filter(([k, v]) => c.get(k)!.v4 !== v.v4);
  assert.ok(moved.length <= 1, `at most the host whose probe path the newcomer took: ${moved.length}`);
  assert.equal(new Set([...c.values()].map((x) => x.v4)).size, 301, 'no two hosts share an address');
});

test('the same host in two namespaces gets two addresses (the key is namespace/host)', () => {
  const out = allocateServiceEntryAddresses([se('a', {}, 'ns1'), se('a', {}, 'ns2')]);
  assert.notEqual(out.get(allocationKey('ns1', 'a.example.com'))!.v4, out.get(allocationKey('ns2', 'a.example.com'))!.v4);
});

test('collisions probe forward, and addresses entries declare in the range are never handed out', () => {
  const first = allocateServiceEntryAddresses([se('a', {})]).get('default/a.example.com')!.v4;
  // Another entry declares exactly that address: "a" moves to the next free one.
  const out = allocateServiceEntryAddresses([se('a', {}), se('owner', { addresses: [`${first}/32`] })]);
  const moved = out.get('default/a.example.com')!.v4;
  assert.notEqual(moved, first);
  const n = (ip: string) => ip.split('.').slice(2).reduce((acc, x) => acc * 256 + Number(x), 0);
  assert.equal(n(moved), n(first) === 65534 ? 1 : n(first) + 1);
  assert.equal(out.has('default/owner.example.com'), false);
});

test('addresses istiod already wrote to status.addresses are kept, and never handed to another host', () => {
  const derived = allocateServiceEntryAddresses([se('a', {})]).get('default/a.example.com')!;
  const withStatus = { ...se('b', {}), status: { addresses: [{ host: 'b.example.com', value: derived.v4 }, { host: 'b.example.com', value: '2001:2::77' }] } } as ServiceEntry;
  const out = allocateServiceEntryAddresses([se('a', {}), withStatus]);
  assert.deepEqual(out.get('default/b.example.com'), { v4: derived.v4, v6: '2001:2::77' });
  assert.notEqual(out.get('default/a.example.com')!.v4, derived.v4, '"a" probes past the address "b" holds');
  // A status with one family only is not taken: both are derived.
  const half = { ...se('c', {}), status: { addresses: [{ host: 'c.example.com', value: '240.240.9.9' }] } } as ServiceEntry;
  const c = allocateServiceEntryAddresses([half]).get('default/c.example.com')!;
  assert.deepEqual(c, allocateServiceEntryAddresses([se('c', {})]).get('default/c.example.com'));
  assert.notEqual(c.v4, '240.240.9.9');
});
