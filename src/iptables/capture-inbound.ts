/**
 * Inbound capture (REDIRECT or TPROXY) and the TPROXY marks on the way out,
 * after Istio's handleInboundPortsInclude and the TPROXY block of run.go.
 */
import type { CaptureConfig } from './config.js';
import { CHAIN, IP_VERSION_SPECIFIC as IPV, type RuleBuilder, type Table } from './rules.js';

/** The mark the proxy's own loopback connections to the app carry in TPROXY mode. */
export function outboundMark(cfg: CaptureConfig): string {
  return String(cfg.tproxyMark + 1);
}

export function addInboundRules(b: RuleBuilder, cfg: CaptureConfig): void {
  const inc = cfg.inboundPortsInclude;
  if (inc !== '*' && inc.length === 0) return;
  const tproxy = cfg.inboundMode === 'TPROXY';
  const table: Table = tproxy ? 'mangle' : 'nat';
  if (tproxy) {
    // Packets of connections already diverted are marked, which policy routing sends to lo.
    b.append(CHAIN.divert, 'mangle', '-j', 'MARK', '--set-mark', String(cfg.tproxyMark));
    b.append(CHAIN.divert, 'mangle', '-j', 'ACCEPT');
    b.appendVersioned(cfg.hostIpv4LoopbackCidr, '::1/128', CHAIN.tproxy, 'mangle', '!', '-d', IPV, '-p', 'tcp',
      '-j', 'TPROXY', '--tproxy-mark', `${cfg.tproxyMark}/0xffffffff`, '--on-port', String(cfg.inboundCapturePort));
  }
  b.append('PREROUTING', table, '-p', 'tcp', '-j', CHAIN.inbound);
  if (inc === '*') {
    for (const port of cfg.inboundPortsExclude) b.append(CHAIN.inbound, table, '-p', 'tcp', '--dport', String(port), '-j', 'RETURN');
    if (tproxy) {
      b.append(CHAIN.inbound, 'mangle', '-p', 'tcp', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', CHAIN.divert);
      b.append(CHAIN.inbound, 'mangle', '-p', 'tcp', '-j', CHAIN.tproxy);
    } else {
      b.append(CHAIN.inbound, 'nat', '-p', 'tcp', '-j', CHAIN.inRedirect);
    }
    return;
  }
  for (const p of inc) {
    const port = String(p);
    if (tproxy) {
      b.append(CHAIN.inbound, 'mangle', '-p', 'tcp', '--dport', port, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', CHAIN.divert);
      b.append(CHAIN.inbound, 'mangle', '-p', 'tcp', '--dport', port, '-j', CHAIN.tproxy);
    } else {
      b.append(CHAIN.inbound, 'nat', '-p', 'tcp', '--dport', port, '-j', CHAIN.inRedirect);
    }
  }
}

/** TPROXY: keep marks across the connection, and tell proxy→app loopback traffic apart from app→app. */
export function addTproxyOutputRules(b: RuleBuilder, cfg: CaptureConfig): void {
  const mark = String(cfg.tproxyMark);
  const outMark = outboundMark(cfg);
  // Save the mark set by the original_src listener filter as the connection's mark.
  b.append('PREROUTING', 'mangle', '-p', 'tcp', '-m', 'mark', '--mark', mark, '-j', 'CONNMARK', '--save-mark');
  // Already-marked proxy → app packets must not be marked again.
  b.append('OUTPUT', 'mangle', '-p', 'tcp', '-o', 'lo', '-m', 'mark', '--mark', mark, '-j', 'RETURN');
  for (const [owner, ids] of [['--uid-owner', cfg.proxyUids], ['--gid-owner', cfg.proxyGids]] as const) {
    for (const id of ids) {
      // app → VIP → outbound proxy → (mark) → inbound proxy → app
      b.appendVersioned(cfg.hostIpv4LoopbackCidr, '::1/128', 'OUTPUT', 'mangle', '!', '-d', IPV, '-p', 'tcp', '-o', 'lo',
        '-m', 'owner', owner, id, '-j', 'MARK', '--set-mark', outMark);
    }
  }
  // Replies of diverted connections follow the policy route back to the proxy.
  b.append('OUTPUT', 'mangle', '-p', 'tcp', '-m', 'connmark', '--mark', mark, '-j', 'CONNMARK', '--restore-mark');
  if (cfg.inboundPortsInclude !== '*' && cfg.inboundPortsInclude.length === 0) return;
  // No infinite redirect; no capture of the proxy's passthrough (127.0.0.6) nor of app → own pod IP.
  b.insert(CHAIN.inbound, 'mangle', 1, '-p', 'tcp', '-m', 'mark', '--mark', mark, '-j', 'RETURN');
  b.insertV4(CHAIN.inbound, 'mangle', 2, '-p', 'tcp', '-s', '127.0.0.6/32', '-i', 'lo', '-j', 'RETURN');
  b.insertV6(CHAIN.inbound, 'mangle', 2, '-p', 'tcp', '-s', '::6/128', '-i', 'lo', '-j', 'RETURN');
  b.insert(CHAIN.inbound, 'mangle', 3, '-p', 'tcp', '-i', 'lo', '-m', 'mark', '!', '--mark', outMark, '-j', 'RETURN');
}
