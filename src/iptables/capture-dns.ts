/**
 * DNS capture: udp/tcp 53 to the proxy's DNS port, and conntrack zones that
 * keep the proxy's own DNS traffic apart from the app's (Istio's SetupDNSRedir).
 */
import type { CaptureConfig } from './config.js';
import { CHAIN, type RuleBuilder } from './rules.js';

export function addDnsRules(b: RuleBuilder, cfg: CaptureConfig): void {
  const port = String(cfg.dnsCapturePort);
  b.append(CHAIN.output, 'nat', '-j', CHAIN.outputDns);
  if (cfg.captureAllDns) {
    b.append(CHAIN.outputDns, 'nat', '-p', 'tcp', '--dport', '53', '-j', 'REDIRECT', '--to-ports', port);
    b.append(CHAIN.outputDns, 'nat', '-p', 'udp', '--dport', '53', '-j', 'REDIRECT', '--to-port', port);
  } else {
    // Only the configured servers: a local resolver chain (app → proxy → dnsmasq → upstream) must not loop.
    for (const [s, append] of servers(b, cfg)) {
      append(CHAIN.outputDns, 'nat', '-p', 'tcp', '--dport', '53', '-d', s, '-j', 'REDIRECT', '--to-ports', port);
      append(CHAIN.outputDns, 'nat', '-p', 'udp', '--dport', '53', '-d', s, '-j', 'REDIRECT', '--to-port', port);
    }
  }
  addConntrackZones(b, cfg);
}

type Append = (chain: string, table: 'nat' | 'raw', ...args: string[]) => void;

function servers(b: RuleBuilder, cfg: CaptureConfig): Array<[string, Append]> {
  return [
    ...cfg.dnsServersV4.map((s): [string, Append] => [`${s}/32`, (c, t, ...a) => b.appendV4(c, t, ...a)]),
    ...cfg.dnsServersV6.map((s): [string, Append] => [`${s}/128`, (c, t, ...a) => b.appendV6(c, t, ...a)]),
  ];
}

/**
 * The proxy's upstream DNS queries and the app's queries can share a
 * 5-tuple after NAT; separate conntrack zones keep their entries apart.
 */
function addConntrackZones(b: RuleBuilder, cfg: CaptureConfig): void {
  const port = String(cfg.dnsCapturePort);
  b.append('OUTPUT', 'raw', '-j', CHAIN.outputDns);
  for (const [owner, ids] of [['--uid-owner', cfg.proxyUids], ['--gid-owner', cfg.proxyGids]] as const) {
    for (const id of ids) {
      b.append(CHAIN.outputDns, 'raw', '-p', 'udp', '--dport', '53', '-m', 'owner', owner, id, '-j', 'CT', '--zone', '1');
      b.append(CHAIN.outputDns, 'raw', '-p', 'udp', '--sport', port, '-m', 'owner', owner, id, '-j', 'CT', '--zone', '2');
    }
  }
  b.append('PREROUTING', 'raw', '-j', CHAIN.inbound);
  if (cfg.captureAllDns) {
    b.append(CHAIN.outputDns, 'raw', '-p', 'udp', '--dport', '53', '-j', 'CT', '--zone', '2');
    b.append(CHAIN.inbound, 'raw', '-p', 'udp', '--sport', '53', '-j', 'CT', '--zone', '1');
    return;
  }
  for (const [s, append] of servers(b, cfg)) {
    append(CHAIN.outputDns, 'raw', '-p', 'udp', '--dport', '53', '-d', s, '-j', 'CT', '--zone', '2');
    append(CHAIN.inbound, 'raw', '-p', 'udp', '--sport', '53', '-s', s, '-j', 'CT', '--zone', '1');
  }
}
