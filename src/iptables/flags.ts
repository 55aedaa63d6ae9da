/**
 * istio-iptables' flags, same names and meanings, so that injection
 * templates and traffic.sidecar.istio.io/* annotations carry over.
 * Validation collects every problem, each prefixed with its flag.
 */
import { Command, Option } from 'commander';
import { isIPv4, isIPv6 } from 'node:net';
import { parseResolvConf } from '../config/resolv-conf.js';
import { parseCidr } from './cidr.js';
import { defaultCaptureConfig, type CaptureConfig, type Selection } from './config.js';
import type { BackendKind } from './backend.js';

/** Adds the istio-iptables flags (and Trellis' few extras) to a command. */
export function addIptablesOptions(cmd: Command): Command {
  return cmd
    .option('-p, --envoy-port <port>', 'outbound capture port of the proxy', '15001')
    .option('-z, --inbound-capture-port <port>', 'inbound capture port of the proxy', '15006')
    .option('-e, --inbound-tunnel-port <port>', 'tunnel port, never captured', '15008')
    .option('-u, --proxy-uid <uids>', 'uids not captured (the proxy\'s), comma-separated', '1337')
    .option('-g, --proxy-gid <gids>', 'gids not captured, comma-separated', '1337')
    .option('-m, --istio-inbound-interception-mode <mode>', 'REDIRECT or TPROXY', 'REDIRECT')
    .option('-t, --istio-inbound-tproxy-mark <mark>', 'TPROXY packet mark', '1337')
    .option('-r, --istio-inbound-tproxy-route-table <table>', 'TPROXY routing table', '133')
    .option('-b, --istio-inbound-ports <ports>', "inbound ports to capture, '*' for all", '*')
    .option('-d, --istio-local-exclude-ports <ports>', 'inbound ports not captured', '15090,15021,15020,15000')
    .option('-o, --istio-local-outbound-ports-exclude <ports>', 'outbound ports not captured', '')
    .option('-q, --istio-outbound-ports <ports>', 'outbound ports always captured', '')
    .option('-i, --istio-service-cidr <cidrs>', "outbound destinations to capture, '*' for all", '*')
    .option('-x, --istio-service-exclude-cidr <cidrs>', 'outbound destinations not captured', '')
    .option('-k, --kube-virt-interfaces <ifaces>', 'interfaces whose traffic is treated as outbound', '')
    .option('-c, --exclude-interfaces <ifaces>', 'interfaces never captured', '')
    .option('--istio-outbound-owner-groups <groups>', "only these groups' traffic is captured, '*' for all", '*')
    .option('--istio-outbound-owner-groups-exclude <groups>', "these groups' traffic is not captured", '')
    .option('--redirect-dns', 'capture DNS (udp/tcp 53) to the proxy', false)
    .option('--capture-all-dns', 'capture DNS to every server, not only the configured ones', false)
    .option('--dns-servers <ips>', 'DNS servers to capture (default: nameservers of /etc/resolv.conf)')
    .option('--dns-capture-port <port>', "the proxy's DNS port", '15053')
    .option('--drop-invalid', 'drop conntrack INVALID packets', false)
    .option('--host-ipv4-loopback-cidr <cidr>', 'the IPv4 localhost range', '127.0.0.1/32')
    .option('--ipv6', 'also write ip6tables rules (the default)')
    .option('--no-ipv6', 'do not write ip6tables rules')
    .option('-n, --dry-run', 'print the iptables-restore input instead of applying it', false)
    .option('--cleanup', 'remove the rules and routes a previous run added', false)
    .addOption(new Option('--backend <kind>', 'iptables back end (default: the system\'s iptables)').choices(['nft', 'legacy']));
}

export interface ParsedFlags {
  config: CaptureConfig;
  dryRun: boolean;
  cleanup: boolean;
  backend?: BackendKind;
  /** Every problem found, each as "flag: message"; empty when valid. */
  errors: string[];
}

type Opts = Record<string, unknown>;

/**
 * Commander's parsed options → a validated config. `resolvConf` is the
 * text of /etc/resolv.conf, read by the caller (this function touches no files).
 */
export function configFromOptions(o: Opts, resolvConf = ''): ParsedFlags {
  const errors: string[] = [];
  const c = new Checker(errors);
  const def = defaultCaptureConfig();
  const config: CaptureConfig = {
    ...def,
    proxyPort: c.port('-p/--envoy-port', o.envoyPort),
    inboundCapturePort: c.port('-z/--inbound-capture-port', o.inboundCapturePort),
    inboundTunnelPort: c.port('-e/--inbound-tunnel-port', o.inboundTunnelPort),
    proxyUids: c.ids('-u/--proxy-uid', o.proxyUid),
    proxyGids: c.ids('-g/--proxy-gid', o.proxyGid),
    inboundMode: c.mode('-m/--istio-inbound-interception-mode', o.istioInboundInterceptionMode),
    tproxyMark: c.int('-t/--istio-inbound-tproxy-mark', o.istioInboundTproxyMark, 1, 0xfffffffe),
    tproxyRouteTable: c.int('-r/--istio-inbound-tproxy-route-table', o.istioInboundTproxyRouteTable, 1, 0xfffffffe),
    inboundPortsInclude: c.portSelection('-b/--istio-inbound-ports', o.istioInboundPorts),
    inboundPortsExclude: c.ports('-d/--istio-local-exclude-ports', o.istioLocalExcludePorts),
    outboundPortsExclude: c.ports('-o/--istio-local-outbound-ports-exclude', o.istioLocalOutboundPortsExclude),
    outboundPortsInclude: c.ports('-q/--istio-outbound-ports', o.istioOutboundPorts),
    outboundIpRangesInclude: c.cidrSelection('-i/--istio-service-cidr', o.istioServiceCidr, true),
    outboundIpRangesExclude: c.cidrSelection('-x/--istio-service-exclude-cidr', o.istioServiceExcludeCidr, false) as string[],
    rerouteVirtualInterfaces: c.ifaces('-k/--kube-virt-interfaces', o.kubeVirtInterfaces),
    excludeInterfaces: c.ifaces('-c/--exclude-interfaces', o.excludeInterfaces),
    ownerGroupsInclude: c.groups(o.istioOutboundOwnerGroups, true),
    ownerGroupsExclude: c.groups(o.istioOutboundOwnerGroupsExclude, false) as string[],
    redirectDns: o.redirectDns === true,
    captureAllDns: o.captureAllDns === true,
    dnsCapturePort: c.port('--dns-capture-port', o.dnsCapturePort),
    dropInvalid: o.dropInvalid === true,
    hostIpv4LoopbackCidr: c.loopback(o.hostIpv4LoopbackCidr),
    ipv6: o.ipv6 !== false,
  };
  const servers = c.dnsServers(o.dnsServers, resolvConf);
  config.dnsServersV4 = servers.filter((s) => isIPv4(s));
  config.dnsServersV6 = servers.filter((s) => isIPv6(s));
  const backend = o.backend === 'nft' || o.backend === 'legacy' ? o.backend : undefined;
  return { config, dryRun: o.dryRun === true, cleanup: o.cleanup === true, backend, errors };
}

/** Parses argv (flags only, as after `trellis iptables`) without exiting the process. */
export function parseIptablesArgs(argv: readonly string[], resolvConf = ''): ParsedFlags {
  const cmd = addIptablesOptions(new Command('iptables')).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    const parsed = configFromOptions(defaultOptions(), resolvConf);
    return { ...parsed, errors: [err instanceof Error ? err.message.replace(/^error: /, '') : String(err)] };
  }
  if (cmd.args.length > 0) {
    const parsed = configFromOptions(cmd.opts(), resolvConf);
    return { ...parsed, errors: [...parsed.errors, `unexpected argument(s): ${cmd.args.join(' ')}`] };
  }
  return configFromOptions(cmd.opts(), resolvConf);
}

function defaultOptions(): Opts {
  const cmd = addIptablesOptions(new Command('iptables')).exitOverride();
  cmd.parse([], { from: 'user' });
  return cmd.opts();
}

/** Nameservers of a resolv.conf text, in order. */
export function nameservers(resolvConf: string): string[] {
  return parseResolvConf(resolvConf).nameservers;
}

function list(v: unknown): string[] {
  return String(v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Field checks; each records "flag: problem" and returns a usable fallback. */
class Checker {
  constructor(readonly errors: string[]) {}

  int(flag: string, v: unknown, min: number, max: number): number {
    const s = String(v ?? '').trim();
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < min || n > max) {
      this.errors.push(`${flag}: ${JSON.stringify(v)} is not an integer in ${min}..${max}`);
      return min;
    }
    return n;
  }

  port(flag: string, v: unknown): number {
    return this.int(flag, v, 1, 65535);
  }

  ports(flag: string, v: unknown): number[] {
    return list(v).map((p, i) => this.port(`${flag}[${i}]`, p));
  }

  portSelection(flag: string, v: unknown): Selection<number> {
    return String(v).trim() === '*' ? '*' : this.ports(flag, v);
  }

  ids(flag: string, v: unknown): string[] {
    const ids = list(v);
    ids.forEach((id, i) => { if (!/^\d+$/.test(id)) this.errors.push(`${flag}[${i}]: ${JSON.stringify(id)} is not a numeric id`); });
    return ids;
  }

  mode(flag: string, v: unknown): 'REDIRECT' | 'TPROXY' {
    const m = String(v).toUpperCase();
    if (m === 'REDIRECT' || m === 'TPROXY') return m;
    this.errors.push(`${flag}: ${JSON.stringify(v)} is not REDIRECT or TPROXY`);
    return 'REDIRECT';
  }

  cidrSelection(flag: string, v: unknown, wildcardOk: boolean): Selection<string> {
    const items = list(v);
    if (items.includes('*')) {
      if (wildcardOk) return '*';
      this.errors.push(`${flag}: '*' is not allowed here (it would exclude every destination)`);
      return [];
    }
    return items.flatMap((s, i) => {
      const c = parseCidr(s);
      if (c) return [c.text];
      this.errors.push(`${flag}[${i}]: ${JSON.stringify(s)} is not a CIDR`);
      return [];
    });
  }

  ifaces(flag: string, v: unknown): string[] {
    const names = list(v);
    names.forEach((n, i) => {
      if (!/^[A-Za-z0-9_.@:+-]{1,15}$/.test(n)) this.errors.push(`${flag}[${i}]: ${JSON.stringify(n)} is not an interface name`);
    });
    return names;
  }

  groups(v: unknown, include: boolean): Selection<string> {
    const flag = include ? '--istio-outbound-owner-groups' : '--istio-outbound-owner-groups-exclude';
    const g = list(v);
    if (include && (g.length === 0 || g.includes('*'))) return '*';
    g.forEach((x, i) => { if (!/^[A-Za-z0-9_.-]+$/.test(x)) this.errors.push(`${flag}[${i}]: ${JSON.stringify(x)} is not a group name or id`); });
    return g;
  }

  loopback(v: unknown): string {
    const c = parseCidr(String(v));
    if (c?.family === 'v4' && c.address.startsWith('127.')) return c.text;
    this.errors.push(`--host-ipv4-loopback-cidr: ${JSON.stringify(v)} is not an IPv4 CIDR within 127.0.0.0/8`);
    return '127.0.0.1/32';
  }

  dnsServers(v: unknown, resolvConf: string): string[] {
    if (v === undefined) return nameservers(resolvConf);
    return list(v).filter((s, i) => {
      const ok = isIPv4(s) || isIPv6(s);
      if (!ok) this.errors.push(`--dns-servers[${i}]: ${JSON.stringify(s)} is not an IP address`);
      return ok;
    });
  }
}
