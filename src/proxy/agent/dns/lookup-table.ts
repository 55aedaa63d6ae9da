/**
 * The names the agent answers itself, compiled from the control plane's
 * NameTable (pure) the way istio-agent's DNS proxy does: a ServiceEntry host
 * by its own name; a Kubernetes Service also as NAME.NAMESPACE and
 * NAME.NAMESPACE.svc, and as NAME in the proxy's own namespace; each name
 * once more with the first search domain appended (what a resolver tries
 * first for a name with few dots), answered with a CNAME to the name. A
 * wildcard host ("*.example.com") answers any name under it. Only A and
 * AAAA are answered; any other question is not the table's.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { RecordType, type DnsRecord } from './wire.js';

/** What istio-agent gives its own answers. */
export const ANSWER_TTL_SECONDS = 30;

/** One NameTable entry, as istio.networking.nds.v1.NameTable.NameInfo carries it. */
export interface NameInfo {
  ips: readonly string[];
  registry: string;
  shortname: string;
  namespace: string;
  altHosts: readonly string[];
}

export interface ProxyDns {
  /** The proxy's namespace: its Services are also answered by their short name. */
  namespace: string;
  /** Its cluster domain, "cluster.local" (Services of another domain get no short forms). */
  domainSuffix: string;
  /** resolv.conf's search list; the first one's expansions are answered with a CNAME. */
  search: readonly string[];
}

interface Entry {
  v4: string[];
  v6: string[];
}

export type Lookup = { found: false } | { found: true; answers: DnsRecord[] };

export class LookupTable {
  readonly #names = new Map<string, Entry>();
  /** Expanded name (NAME + first search domain) → the name it stands for. */
  readonly #cnames = new Map<string, string>();
  /** Wildcard hosts without "*.": "example.com" for "*.example.com". */
  readonly #wildcards = new Map<string, Entry>();

  constructor(table: Readonly<Record<string, NameInfo>>, proxy: ProxyDns) {
    const first = proxy.search[0]?.replace(/\.$/, '').toLowerCase();
    for (const host of Object.keys(table).sort()) {
      const info = table[host]!;
      const entry: Entry = { v4: info.ips.filter((ip) => isIPv4(ip)), v6: info.ips.filter((ip) => isIPv6(ip)) };
      if (entry.v4.length === 0 && entry.v6.length === 0) continue;
      const fqdn = host.toLowerCase();
      if (fqdn.startsWith('*.')) {
        this.#wildcards.set(fqdn.slice(2), entry);
        continue;
      }
      const names = info.registry === 'Kubernetes' ? altHosts(fqdn, info, proxy) : [fqdn];
      for (const n of names) this.#names.set(n, entry);
      if (first) for (const n of names) if (!names.includes(`${n}.${first}`)) this.#cnames.set(`${n}.${first}`, n);
    }
  }

  get size(): number {
    return this.#names.size + this.#wildcards.size;
  }

  /** `name` lower-case without the trailing dot. Not found: the question goes upstream. Found without records of the type: NODATA. */
  lookup(name: string, type: number): Lookup {
    if (type !== RecordType.A && type !== RecordType.AAAA) return { found: false };
    const own = this.#names.get(name);
    if (own) return { found: true, answers: records(name, own, type) };
    const target = this.#cnames.get(name);
    if (target !== undefined) {
      const entry = this.#names.get(target)!;
      return { found: true, answers: [{ name, type: RecordType.CNAME, ttl: ANSWER_TTL_SECONDS, data: target }, ...records(target, entry, type)] };
    }
    const wild = this.#wildcard(name);
    return wild ? { found: true, answers: records(name, wild, type) } : { found: false };
  }

  /** The longest wildcard host that covers `name` (a name under it, never the bare domain). */
  #wildcard(name: string): Entry | undefined {
    for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) {
      const hit = this.#wildcards.get(name.slice(dot + 1));
      if (hit) return hit;
    }
    return undefined;
  }
}

function records(name: string, e: Entry, type: number): DnsRecord[] {
  const ips = type === RecordType.A ? e.v4 : e.v6;
  return ips.map((data) => ({ name, type: type === RecordType.A ? RecordType.A : RecordType.AAAA, ttl: ANSWER_TTL_SECONDS, data }));
}

/** istio-agent's generateAltHosts: the FQDN, NAME.NS, NAME (own namespace), NAME.NS.svc, and the table's alt_hosts. */
function altHosts(fqdn: string, info: NameInfo, proxy: ProxyDns): string[] {
  const out = new Set([fqdn]);
  const svcDomain = `svc.${proxy.domainSuffix}`;
  if (info.shortname && info.namespace && fqdn.endsWith(`.${svcDomain}`)) {
    out.add(`${info.shortname}.${info.namespace}`);
    if (info.namespace === proxy.namespace) out.add(info.shortname);
    out.add(`${info.shortname}.${info.namespace}.svc`);
  }
  for (const a of info.altHosts) out.add(a.toLowerCase());
  return [...out];
}

/** A DNS name as the table may hold it: labels of 1–63 letters, digits, '-' or '_', a leading "*." allowed. */
function isHostName(name: string): boolean {
  const labels = name.replace(/^\*\./, '').replace(/\.$/, '').split('.');
  return name.length <= 253 && labels.every((l) => /^[A-Za-z0-9_-]{1,63}$/.test(l));
}

/** Every problem of a NameTable with its field path (the NACK's detail); empty when it can be used. */
export function checkNameTable(table: Readonly<Record<string, NameInfo>>): string[] {
  const errors: string[] = [];
  for (const [host, info] of Object.entries(table)) {
    const path = `table[${JSON.stringify(host)}]`;
    if (!isHostName(host)) errors.push(`${path}: not a host name`);
    info.ips.forEach((ip, i) => {
      if (!isIPv4(ip) && !isIPv6(ip)) errors.push(`${path}.ips[${i}]: ${JSON.stringify(ip)} is not an IP address`);
    });
    info.altHosts.forEach((h, i) => {
      if (!isHostName(h)) errors.push(`${path}.altHosts[${i}]: not a host name`);
    });
    for (const field of ['shortname', 'namespace'] as const) {
      if (info[field] !== '' && !/^[A-Za-z0-9_-]{1,63}$/.test(info[field])) errors.push(`${path}.${field}: not a DNS label`);
    }
  }
  return errors;
}
