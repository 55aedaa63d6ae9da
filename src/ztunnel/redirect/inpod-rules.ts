/**
 * The ambient in-pod redirection rules, in the order and with the arguments
 * of Istio's CNI agent (cni/pkg/iptables, AppendInpodRules and
 * AppendHostRules), so the output compares rule for rule with its goldens
 * (chain names aside). Pure: config in, rule lists out; apply.ts writes them.
 *
 * The node proxy listens inside the pod's namespace and marks its own
 * sockets with INPOD_MARK. Unmarked TCP leaving the pod goes to 15001,
 * unmarked TCP arriving goes to 15006 except HBONE on 15008, which the node
 * proxy already listens on. Connections the proxy opens into the pod (with
 * the caller's source address, via IP_TRANSPARENT) get connmark 0x111; the
 * app's replies get that mark back and take the policy route to lo, back to
 * the proxy, instead of leaving by eth0 towards the spoofed source.
 */
import { CHAIN, IP_VERSION_SPECIFIC as IPV, RuleBuilder, type Rule } from '../../iptables/index.js';
import {
  INPOD_MARK, INPOD_RESTORE_MASK, INPOD_TPROXY_MARK, ZTUNNEL_PORTS, dnsCaptured, markMask, type InpodConfig,
} from './config.js';

export interface InpodRules {
  v4: Rule[];
  /** Empty unless cfg.ipv6. */
  v6: Rule[];
}

const PRERT = CHAIN.prerouting;
const OUTPUT = CHAIN.output;
const LOOPBACK: [string, string] = ['127.0.0.1/32', '::1/128'];

export function buildInpodRules(cfg: InpodConfig): InpodRules {
  const b = new RuleBuilder();
  const dns = dnsCaptured(cfg);
  // Everything lives in our own chains; the built-in chains get one jump each (clean removal).
  b.append('PREROUTING', 'mangle', '-j', PRERT);
  b.append('OUTPUT', 'mangle', '-j', OUTPUT);
  b.append('OUTPUT', 'nat', '-j', OUTPUT);
  if (dns) {
    b.append('PREROUTING', 'raw', '-j', PRERT);
    b.append('OUTPUT', 'raw', '-j', OUTPUT);
  }
  b.append('PREROUTING', 'nat', '-j', PRERT);
  addVirtualInterfaces(b, cfg);
  addInbound(b, cfg);
  addMarkRestore(b);
  if (dns) addDns(b);
  addOutbound(b);
  return { v4: b.v4, v6: cfg.ipv6 ? b.v6 : [] };
}

/** Inbound TCP on these interfaces is the VM's outbound traffic: straight to 15001, and out of our chain. */
function addVirtualInterfaces(b: RuleBuilder, cfg: InpodConfig): void {
  for (const nic of cfg.virtualInterfaces) {
    b.append(PRERT, 'nat', '-i', nic, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(ZTUNNEL_PORTS.outbound));
    b.append(PRERT, 'nat', '-i', nic, '-p', 'tcp', '-j', 'RETURN');
  }
}

function addInbound(b: RuleBuilder, cfg: InpodConfig): void {
  const mark = markMask(INPOD_MARK);
  // Packets the node proxy sent into the pod: remember the connection, so the replies can be routed back to it.
  b.append(PRERT, 'mangle', '-m', 'mark', '--mark', mark, '-j', 'CONNMARK', '--set-xmark', markMask(INPOD_TPROXY_MARK));
  if (!cfg.ingressMode) {
    // Kubelet probes arrive SNAT-ed to this address by the node: they reach the app uncaptured.
    b.appendVersioned(cfg.probeSnatV4, cfg.probeSnatV6, PRERT, 'nat', '-s', IPV, '-p', 'tcp', '-m', 'tcp', '-j', 'ACCEPT');
  }
  // ...and so do the app's answers to them.
  b.appendVersioned(cfg.probeSnatV4, cfg.probeSnatV6, OUTPUT, 'nat', '-d', IPV, '-p', 'tcp', '-m', 'tcp', '-j', 'ACCEPT');
  if (cfg.ingressMode) return;
  b.appendVersioned(...LOOPBACK, PRERT, 'nat', '!', '-d', IPV, '-p', 'tcp', '!', '--dport', String(ZTUNNEL_PORTS.inboundHbone),
    '-m', 'mark', '!', '--mark', mark, '-j', 'REDIRECT', '--to-ports', String(ZTUNNEL_PORTS.inboundPlaintext));
}

/** The app's packets of a connection the node proxy opened get the connmark back as their mark: policy route to lo. */
function addMarkRestore(b: RuleBuilder): void {
  const all = `0x${INPOD_RESTORE_MASK.toString(16)}`;
  b.append(OUTPUT, 'mangle', '-m', 'connmark', '--mark', markMask(INPOD_TPROXY_MARK), '-j', 'CONNMARK', '--restore-mark',
    '--nfmask', all, '--ctmask', all);
}

function addDns(b: RuleBuilder): void {
  const mark = markMask(INPOD_MARK);
  const port = String(ZTUNNEL_PORTS.dns);
  b.append(OUTPUT, 'nat', '!', '-o', 'lo', '-p', 'udp', '-m', 'mark', '!', '--mark', mark, '-m', 'udp', '--dport', '53',
    '-j', 'REDIRECT', '--to-port', port);
  b.appendVersioned(...LOOPBACK, OUTPUT, 'nat', '!', '-d', IPV, '-p', 'tcp', '--dport', '53', '-m', 'mark', '!', '--mark', mark,
    '-j', 'REDIRECT', '--to-ports', port);
  // The proxy's upstream queries and the app's (NAT-ed) ones may share a 5-tuple: separate conntrack zones.
  b.append(OUTPUT, 'raw', '-p', 'udp', '-m', 'mark', '--mark', mark, '-m', 'udp', '--dport', '53', '-j', 'CT', '--zone', '1');
  b.append(PRERT, 'raw', '-p', 'udp', '-m', 'mark', '!', '--mark', mark, '-m', 'udp', '--sport', '53', '-j', 'CT', '--zone', '1');
}

function addOutbound(b: RuleBuilder): void {
  // Replies of connections the node proxy opened into the pod: not new outbound traffic.
  b.append(OUTPUT, 'nat', '-p', 'tcp', '-m', 'mark', '--mark', markMask(INPOD_TPROXY_MARK), '-j', 'ACCEPT');
  // The app calling itself by its pod IP goes through lo: not via the node proxy.
  b.appendVersioned(...LOOPBACK, OUTPUT, 'nat', '!', '-d', IPV, '-o', 'lo', '-j', 'ACCEPT');
  b.appendVersioned(...LOOPBACK, OUTPUT, 'nat', '!', '-d', IPV, '-p', 'tcp', '-m', 'mark', '!', '--mark', markMask(INPOD_MARK),
    '-j', 'REDIRECT', '--to-ports', String(ZTUNNEL_PORTS.outbound));
}

/** The ipset the node fills with its ambient pods' addresses (Istio's istio-inpod-probes-v4 / -v6). */
export const PROBE_IPSET = { v4: 'istio-inpod-probes-v4', v6: 'istio-inpod-probes-v6' } as const;

/**
 * The node's rules (in the node's namespace, not the pod's): connections a
 * local process (the kubelet) opens to an ambient pod are SNAT-ed to the
 * probe address, so the pod can tell probes from forwarded traffic.
 */
export function buildHostProbeRules(cfg: InpodConfig): InpodRules {
  const b = new RuleBuilder();
  b.insert('POSTROUTING', 'nat', 1, '-j', CHAIN.postrouting);
  const snat = (set: string, to: string) => ['-m', 'owner', '--socket-exists', '-p', 'tcp', '-m', 'set', '--match-set', set, 'dst',
    '-j', 'SNAT', '--to-source', to];
  b.appendV4(CHAIN.postrouting, 'nat', ...snat(PROBE_IPSET.v4, cfg.probeSnatV4));
  b.appendV6(CHAIN.postrouting, 'nat', ...snat(PROBE_IPSET.v6, cfg.probeSnatV6));
  return { v4: b.v4, v6: cfg.ipv6 ? b.v6 : [] };
}
