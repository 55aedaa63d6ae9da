/**
 * kube-proxy's iptables mode for the node namespace, as pure text for
 * iptables-restore: each service port jumps to a chain that picks one
 * endpoint per connection (statistic --mode random, the probabilities
 * kube-proxy writes: 1/n, 1/(n-1), ..., the last unconditional), and each
 * endpoint chain DNATs to it. A pod calling a service that lands on itself
 * is masqueraded (hairpin), or its answer would skip the node and never
 * match the connection. The node namespace belongs to the cluster alone, so
 * the whole nat table is written at once: atomic, and nothing stale survives.
 */
import { createHash } from 'node:crypto';

export interface ServiceBackend {
  ip: string;
  port: number;
}

export interface ServiceRule {
  /** "namespace/name:port", for the rule comment. */
  name: string;
  clusterIp: string;
  port: number;
  protocol: 'tcp' | 'udp';
  backends: readonly ServiceBackend[];
}

const MASQ_MARK = '0x4000/0x4000';

function chain(prefix: string, key: string): string {
  return `${prefix}${createHash('sha256').update(key).digest('hex').slice(0, 12).toUpperCase()}`;
}

/** The nat table of the node namespace for these services (iptables-restore input, no --noflush). */
export function renderServiceRules(rules: readonly ServiceRule[]): string {
  const chains: string[] = [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]',
    ':TRELLIS-SERVICES - [0:0]', ':TRELLIS-POSTROUTING - [0:0]'];
  const lines: string[] = [
    '-A PREROUTING -m comment --comment "trellis service portals" -j TRELLIS-SERVICES',
    '-A OUTPUT -m comment --comment "trellis service portals" -j TRELLIS-SERVICES',
    '-A POSTROUTING -m comment --comment "trellis postrouting" -j TRELLIS-POSTROUTING',
    `-A TRELLIS-POSTROUTING -m mark --mark ${MASQ_MARK} -j MASQUERADE`,
  ];
  const sorted = [...rules].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const r of sorted) {
    if (r.backends.length === 0) continue;
    const key = `${r.protocol}/${r.clusterIp}:${r.port}`;
    const svc = chain('TRELLIS-SVC-', key);
    chains.push(`:${svc} - [0:0]`);
    lines.push(`-A TRELLIS-SERVICES -d ${r.clusterIp}/32 -p ${r.protocol} -m ${r.protocol} --dport ${r.port} -m comment --comment "${r.name}" -j ${svc}`);
    const n = r.backends.length;
    r.backends.forEach((b, i) => {
      const sep = chain('TRELLIS-SEP-', `${key}>${b.ip}:${b.port}`);
      chains.push(`:${sep} - [0:0]`);
      const left = n - i;
      lines.push(left > 1 ? `-A ${svc} -m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${sep}` : `-A ${svc} -j ${sep}`);
      lines.push(`-A ${sep} -s ${b.ip}/32 -j MARK --set-xmark ${MASQ_MARK}`);
      lines.push(`-A ${sep} -p ${r.protocol} -m ${r.protocol} -j DNAT --to-destination ${b.ip}:${b.port}`);
    });
  }
  return ['*nat', ...chains, ...lines, 'COMMIT', ''].join('\n');
}
