/**
 * Builds the capture rules from a CaptureConfig. The order and the exact
 * arguments follow Istio's tools/istio-iptables/pkg/capture/run.go, so that
 * our output matches its goldens rule for rule (chain names aside); the
 * comments say why each rule exists, since that is what one needs when
 * changing them.
 */
import { TrellisError } from '../errors.js';
import { parseCidr, splitByFamily, isLoopbackCidr, type Cidr } from './cidr.js';
import type { CaptureConfig } from './config.js';
import { CHAIN, IP_VERSION_SPECIFIC as IPV, RuleBuilder, pruneEmptyChains, type Rule } from './rules.js';
import { addDnsRules } from './capture-dns.js';
import { addInboundRules, addTproxyOutputRules } from './capture-inbound.js';

export interface CaptureRules {
  v4: Rule[];
  /** Empty when the config disables IPv6. */
  v6: Rule[];
}

interface Ranges {
  wildcard: boolean;
  v4: Cidr[];
  v6: Cidr[];
}

function ranges(sel: '*' | readonly string[]): Ranges {
  if (sel === '*') return { wildcard: true, v4: [], v6: [] };
  const parsed = sel.map((s) => {
    const c = parseCidr(s);
    if (!c) throw new TrellisError('CONFIG_INVALID', `invalid CIDR ${JSON.stringify(s)}`);
    return c;
  });
  return { wildcard: false, ...splitByFamily(parsed) };
}

/** Renders the config into rules for both families (pure; no system access). */
export function buildCaptureRules(cfg: CaptureConfig): CaptureRules {
  const b = new RuleBuilder();
  const exclude = ranges(cfg.outboundIpRangesExclude);
  const include = ranges(cfg.outboundIpRangesInclude);
  const dns = cfg.redirectDns;

  shortCircuitInterfaces(b, cfg);
  if (cfg.dropInvalid) {
    // Drop out-of-window packets rather than let the kernel answer them with a reset.
    b.append('PREROUTING', 'mangle', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', CHAIN.drop);
    b.append(CHAIN.drop, 'mangle', '-j', 'DROP');
  }
  // The tunnel port reaches the proxy directly, never through capture.
  b.append(CHAIN.inbound, 'nat', '-p', 'tcp', '--dport', String(cfg.inboundTunnelPort), '-j', 'RETURN');
  b.append(CHAIN.redirect, 'nat', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(cfg.proxyPort));
  b.append(CHAIN.inRedirect, 'nat', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(cfg.inboundCapturePort));
  addInboundRules(b, cfg);

  b.append('OUTPUT', 'nat', '-j', CHAIN.output);
  for (const port of cfg.outboundPortsExclude) {
    // Port exclusions come before the loopback rules that send traffic back to ourselves.
    b.append(CHAIN.output, 'nat', '-p', 'tcp', '--dport', String(port), '-j', 'RETURN');
  }
  // 127.0.0.6 is the source the proxy binds for inbound passthrough to the app.
  b.appendVersioned('127.0.0.6/32', '::6/128', CHAIN.output, 'nat', '-o', 'lo', '-s', IPV, '-j', 'RETURN');
  const loopbackIncluded = include.v4.some(isLoopbackCidr) || include.v6.some(isLoopbackCidr);
  for (const uid of cfg.proxyUids) ownerRules(b, cfg, '--uid-owner', uid, dns, loopbackIncluded, dns);
  // Istio keeps port 53 in the gid rule's redirect match (no multiport); we mirror it.
  for (const gid of cfg.proxyGids) ownerRules(b, cfg, '--gid-owner', gid, false, loopbackIncluded, dns);
  ownerGroupRules(b, cfg);
  if (dns) addDnsRules(b, cfg);

  // Envoy-aware apps and container-to-container traffic use localhost: leave it alone.
  b.appendVersioned(cfg.hostIpv4LoopbackCidr, '::1/128', CHAIN.output, 'nat', '-d', IPV, '-j', 'RETURN');
  // Exclusions must come before inclusions.
  for (const c of exclude.v4) b.appendV4(CHAIN.output, 'nat', '-d', c.text, '-j', 'RETURN');
  for (const c of exclude.v6) b.appendV6(CHAIN.output, 'nat', '-d', c.text, '-j', 'RETURN');
  for (const port of cfg.outboundPortsInclude) {
    b.append(CHAIN.output, 'nat', '-p', 'tcp', '--dport', String(port), '-j', CHAIN.redirect);
  }
  outboundIncludeRules(b, cfg, include.wildcard, include.v4, 'v4');
  if (cfg.ipv6) outboundIncludeRules(b, cfg, include.wildcard, include.v6, 'v6');
  if (cfg.inboundMode === 'TPROXY') addTproxyOutputRules(b, cfg);

  return { v4: pruneEmptyChains(b.v4), v6: cfg.ipv6 ? pruneEmptyChains(b.v6) : [] };
}

function shortCircuitInterfaces(b: RuleBuilder, cfg: CaptureConfig): void {
  const tables = cfg.inboundMode === 'TPROXY' ? (['nat', 'mangle'] as const) : (['nat'] as const);
  for (const table of tables) {
    for (const nic of cfg.excludeInterfaces) {
      b.append('PREROUTING', table, '-i', nic, '-j', 'RETURN');
      b.append('OUTPUT', table, '-o', nic, '-j', 'RETURN');
    }
  }
  // Traffic arriving on virtual interfaces is outbound traffic of the VM: no inbound capture.
  for (const nic of cfg.rerouteVirtualInterfaces) b.insert('PREROUTING', 'nat', 1, '-i', nic, '-j', 'RETURN');
}

/**
 * For one proxy uid or gid: app → own service VIP goes through both proxies
 * (redirected back inbound), app → itself on lo stays direct, and the
 * proxy's own traffic is never captured (it would loop).
 */
function ownerRules(
  b: RuleBuilder,
  cfg: CaptureConfig,
  owner: '--uid-owner' | '--gid-owner',
  id: string,
  multiportDns: boolean,
  loopbackIncluded: boolean,
  dns: boolean,
): void {
  const tunnel = String(cfg.inboundTunnelPort);
  const ports = multiportDns ? ['-m', 'multiport', '!', '--dports', `53,${tunnel}`] : ['!', '--dport', tunnel];
  b.appendVersioned(cfg.hostIpv4LoopbackCidr, '::1/128', CHAIN.output, 'nat',
    '-o', 'lo', '!', '-d', IPV, '-p', 'tcp', ...ports, '-m', 'owner', owner, id, '-j', CHAIN.inRedirect);
  if (!loopbackIncluded) {
    // With DNS capture, TCP DNS to a server on localhost must still reach the proxy.
    const notDns = dns ? ['-p', 'tcp', '!', '--dport', '53'] : [];
    b.append(CHAIN.output, 'nat', '-o', 'lo', ...notDns, '-m', 'owner', '!', owner, id, '-j', 'RETURN');
  }
  b.append(CHAIN.output, 'nat', '-m', 'owner', owner, id, '-j', 'RETURN');
}

function ownerGroupRules(b: RuleBuilder, cfg: CaptureConfig): void {
  if (cfg.ownerGroupsInclude !== '*' && cfg.ownerGroupsInclude.length > 0) {
    const noneOf = cfg.ownerGroupsInclude.flatMap((g) => ['-m', 'owner', '!', '--gid-owner', g]);
    b.append(CHAIN.output, 'nat', ...noneOf, '-j', 'RETURN');
    return;
  }
  for (const g of cfg.ownerGroupsExclude) b.append(CHAIN.output, 'nat', '-m', 'owner', '--gid-owner', g, '-j', 'RETURN');
}

function outboundIncludeRules(b: RuleBuilder, cfg: CaptureConfig, wildcard: boolean, cidrs: Cidr[], fam: 'v4' | 'v6'): void {
  const append = (...args: string[]) => (fam === 'v4' ? b.appendV4(CHAIN.output, 'nat', ...args) : b.appendV6(CHAIN.output, 'nat', ...args));
  const insert = (...args: string[]) => (fam === 'v4' ? b.insertV4('PREROUTING', 'nat', 1, ...args) : b.insertV6('PREROUTING', 'nat', 1, ...args));
  if (wildcard) {
    append('-j', CHAIN.redirect);
    for (const nic of cfg.rerouteVirtualInterfaces) insert('-i', nic, '-j', CHAIN.redirect);
    return;
  }
  for (const c of cidrs) {
    for (const nic of cfg.rerouteVirtualInterfaces) insert('-i', nic, '-d', c.text, '-j', CHAIN.redirect);
    append('-d', c.text, '-j', CHAIN.redirect);
  }
}
