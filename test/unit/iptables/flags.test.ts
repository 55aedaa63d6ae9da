/** istio-iptables flag parsing: names, defaults, and every error collected with its flag. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCaptureConfig, nameservers, parseIptablesArgs } from '../../../src/iptables/index.js';

describe('flags', () => {
  test('no flags: what Istio\'s injector passes (capture all, proxy ports excluded)', () => {
    const p = parseIptablesArgs([]);
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.config, defaultCaptureConfig());
    assert.equal(p.config.inboundPortsInclude, '*');
    assert.equal(p.config.outboundIpRangesInclude, '*');
    assert.deepEqual([...p.config.inboundPortsExclude].sort(), [15000, 15020, 15021, 15090]);
    assert.equal(p.dryRun, false);
    assert.equal(p.cleanup, false);
  });

  test('short and long names mean the same', () => {
    const short = parseIptablesArgs(['-p', '1', '-z', '2', '-e', '3', '-u', '10,11', '-g', '12', '-m', 'tproxy', '-t', '5', '-r', '6',
      '-b', '80,81', '-d', '82', '-o', '83', '-q', '84', '-i', '10.0.0.0/8,fd00::/8', '-x', '10.1.0.0/16', '-k', 'eth1', '-c', 'eth2', '-n']);
    const long = parseIptablesArgs(['--envoy-port', '1', '--inbound-capture-port', '2', '--inbound-tunnel-port', '3', '--proxy-uid', '10,11',
      '--proxy-gid', '12', '--istio-inbound-interception-mode', 'TPROXY', '--istio-inbound-tproxy-mark', '5',
      '--istio-inbound-tproxy-route-table', '6', '--istio-inbound-ports', '80,81', '--istio-local-exclude-ports', '82',
      '--istio-local-outbound-ports-exclude', '83', '--istio-outbound-ports', '84', '--istio-service-cidr', '10.0.0.0/8,fd00::/8',
      '--istio-service-exclude-cidr', '10.1.0.0/16', '--kube-virt-interfaces', 'eth1', '--exclude-interfaces', 'eth2', '--dry-run']);
    assert.deepEqual(short.errors, []);
    assert.deepEqual(short, long);
    const c = short.config;
    assert.deepEqual([c.proxyPort, c.inboundCapturePort, c.inboundTunnelPort], [1, 2, 3]);
    assert.deepEqual(c.proxyUids, ['10', '11']);
    assert.equal(c.inboundMode, 'TPROXY');
    assert.deepEqual(c.inboundPortsInclude, [80, 81]);
    assert.deepEqual(c.outboundIpRangesInclude, ['10.0.0.0/8', 'fd00::/8']);
    assert.equal(short.dryRun, true);
  });

  test('empty values mean "none"', () => {
    const c = parseIptablesArgs(['-b', '', '-i', '', '-d', '']).config;
    assert.deepEqual(c.inboundPortsInclude, []);
    assert.deepEqual(c.outboundIpRangesInclude, []);
    assert.deepEqual(c.inboundPortsExclude, []);
  });

  test('every problem is reported with its flag', () => {
    const p = parseIptablesArgs(['-p', '0', '-z', '70000', '-u', 'root', '-m', 'nat', '-b', '80,x', '-i', '10.0.0.0/33',
      '-x', '*', '-c', 'an-interface-name-too-long', '--dns-servers', 'dns.example', '--host-ipv4-loopback-cidr', '10.0.0.1/32']);
    const flags = p.errors.map((e) => e.split(':')[0]);
    assert.deepEqual(flags, [
      '-p/--envoy-port', '-z/--inbound-capture-port', '-u/--proxy-uid[0]', '-m/--istio-inbound-interception-mode',
      '-b/--istio-inbound-ports[1]', '-i/--istio-service-cidr[0]', '-x/--istio-service-exclude-cidr', '-c/--exclude-interfaces[0]',
      '--host-ipv4-loopback-cidr', '--dns-servers[0]',
    ]);
  });

  test('unknown flags and stray arguments are errors, not exceptions', () => {
    assert.match(parseIptablesArgs(['--no-such-flag']).errors[0] ?? '', /unknown option/);
    assert.match(parseIptablesArgs(['stray']).errors[0] ?? '', /argument/);
  });

  test('DNS servers: from --dns-servers, else from resolv.conf, split by family', () => {
    const resolv = '# comment\nnameserver 10.96.0.10\nnameserver fd00::a\nsearch svc.cluster.local\nnameserver bogus\n';
    assert.deepEqual(nameservers(resolv), ['10.96.0.10', 'fd00::a']);
    const fromFile = parseIptablesArgs(['--redirect-dns'], resolv).config;
    assert.deepEqual([fromFile.dnsServersV4, fromFile.dnsServersV6], [['10.96.0.10'], ['fd00::a']]);
    const explicit = parseIptablesArgs(['--redirect-dns', '--dns-servers', '1.2.3.4'], resolv).config;
    assert.deepEqual([explicit.dnsServersV4, explicit.dnsServersV6], [['1.2.3.4'], []]);
  });

  test('--no-ipv6, --cleanup, --backend', () => {
    const p = parseIptablesArgs(['--no-ipv6', '--cleanup', '--backend', 'legacy']);
    assert.equal(p.config.ipv6, false);
    assert.equal(p.cleanup, true);
    assert.equal(p.backend, 'legacy');
    assert.match(parseIptablesArgs(['--backend', 'iptables']).errors[0] ?? '', /backend/);
  });
});
