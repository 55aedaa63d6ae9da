/**
 * Filter chain selection with Envoy's order and most-specific-wins rule:
 * destination port, destination IP (longest prefix), server name (exact, then
 * longest wildcard), transport protocol, application protocols (the
 * connection's ALPN list in its own order: the first protocol some chain
 * names decides), direct source IP, source type, source IP (longest prefix),
 * source port. At each step a chain naming the value beats a chain that
 * leaves the field empty; there is no backtracking to wildcard chains after a
 * narrowing.
 */
import { isIPv4 } from 'node:net';
import { FilterChainMatch_ConnectionSourceType as SourceType, type FilterChainMatch } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { CidrRange } from '../../gen/envoy/config/core/v3/address_pb.js';

export interface Cidr {
  /** Address as a bigint in a 128-bit space (IPv4 mapped to ::ffff:0:0/96). */
  base: bigint;
  len: number;
}

export interface CompiledMatch {
  destinationPort: number | undefined;
  prefixRanges: Cidr[];
  serverNames: string[];
  transportProtocol: string;
  applicationProtocols: string[];
  directSourceRanges: Cidr[];
  sourceType: 'any' | 'local' | 'external';
  sourceRanges: Cidr[];
  sourcePorts: number[];
}

export interface MatchInput {
  port: number;
  address: string;
  serverName: string;
  transportProtocol: string;
  applicationProtocols: string[];
  /** The peer's address and port ('' and 0 when unknown: no source match then). */
  sourceAddress?: string;
  sourcePort?: number;
}

export function ipToBigInt(ip: string): bigint | undefined {
  if (isIPv4(ip)) return 0xffff00000000n | BigInt(ip.split('.').reduce((a, o) => a * 256 + Number(o), 0));
  if (!ip.includes(':')) return undefined;
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  if (t.length > 0 && t[t.length - 1].includes('.')) return undefined;
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function ranges(list: readonly CidrRange[], path: string, errors: string[]): Cidr[] {
  const out: Cidr[] = [];
  list.forEach((r, i) => {
    const base = ipToBigInt(r.addressPrefix);
    if (base === undefined) {
      errors.push(`${path}[${i}].addressPrefix: invalid address ${JSON.stringify(r.addressPrefix)}`);
      return;
    }
    const bits = isIPv4(r.addressPrefix) ? 32 : 128;
    const prefixLen = r.prefixLen ?? bits;
    if (prefixLen > bits) {
      errors.push(`${path}[${i}].prefixLen: ${prefixLen} is longer than the address (${bits} bits)`);
      return;
    }
    const len = prefixLen + 128 - bits;
    out.push({ base: mask(base, len), len });
  });
  return out;
}

export function compileMatch(m: FilterChainMatch | undefined, path: string, errors: string[]): CompiledMatch {
  const st = m?.sourceType ?? SourceType.ANY;
  if (!(st in SourceType)) errors.push(`${path}.sourceType: unknown value ${st}`);
  return {
    destinationPort: m?.destinationPort,
    prefixRanges: ranges(m?.prefixRanges ?? [], `${path}.prefixRanges`, errors),
    serverNames: (m?.serverNames ?? []).map((s) => s.toLowerCase()),
    transportProtocol: m?.transportProtocol ?? '',
    applicationProtocols: m?.applicationProtocols ?? [],
    directSourceRanges: ranges(m?.directSourcePrefixRanges ?? [], `${path}.directSourcePrefixRanges`, errors),
    sourceType: st === SourceType.SAME_IP_OR_LOOPBACK ? 'local' : st === SourceType.EXTERNAL ? 'external' : 'any',
    sourceRanges: ranges(m?.sourcePrefixRanges ?? [], `${path}.sourcePrefixRanges`, errors),
    sourcePorts: m?.sourcePorts ?? [],
  };
}

function mask(v: bigint, len: number): bigint {
  if (len <= 0) return 0n;
  const bits = 128n - BigInt(len);
  return (v >> bits) << bits;
}

type Matchable = { match: CompiledMatch };

/** Narrows `cands` to the best level of `score` (higher is more specific; -1 = does not match, 0 = wildcard). */
function narrow<T extends Matchable>(cands: readonly T[], score: (m: CompiledMatch) => number): readonly T[] {
  let best = -1;
  for (const c of cands) best = Math.max(best, score(c.match));
  return best < 0 ? [] : cands.filter((c) => score(c.match) === best);
}

/** Longest matching prefix + 1; 0 for a chain without ranges; -1 when it has ranges and none matches. */
function rangeScore(rs: Cidr[], ip: bigint | undefined): number {
  if (rs.length === 0) return 0;
  let best = -1;
  for (const r of rs) if (ip !== undefined && mask(ip, r.len) === r.base) best = Math.max(best, r.len + 1);
  return best;
}

/**
 * Envoy walks the connection's ALPN list in order and takes the chains of the first protocol any
 * chain names: the earlier the protocol in the client's list, the better the chain.
 */
function alpnScore(chain: string[], offered: string[]): number {
  if (chain.length === 0) return 0;
  let first = -1;
  for (let i = 0; i < offered.length && first < 0; i++) if (chain.includes(offered[i])) first = i;
  return first < 0 ? -1 : offered.length - first;
}

/** The chain to use, or undefined (then the listener's default chain applies). */
export function selectChain<T extends Matchable>(chains: readonly T[], input: MatchInput): T | undefined {
  const ip = ipToBigInt(input.address);
  const src = input.sourceAddress ? ipToBigInt(input.sourceAddress) : undefined;
  const local = !!input.sourceAddress && (input.sourceAddress === input.address || input.sourceAddress.startsWith('127.') || input.sourceAddress === '::1');
  let c = chains;
  c = narrow(c, (m) => (m.destinationPort === undefined ? 0 : m.destinationPort === input.port ? 1 : -1));
  c = narrow(c, (m) => rangeScore(m.prefixRanges, ip));
  c = narrow(c, (m) => serverNameScore(m.serverNames, input.serverName));
  c = narrow(c, (m) => (m.transportProtocol === '' ? 0 : m.transportProtocol === input.transportProtocol ? 1 : -1));
  c = narrow(c, (m) => alpnScore(m.applicationProtocols, input.applicationProtocols));
  c = narrow(c, (m) => rangeScore(m.directSourceRanges, src));
  c = narrow(c, (m) => (m.sourceType === 'any' ? 0 : (m.sourceType === 'local') === local ? 1 : -1));
  c = narrow(c, (m) => rangeScore(m.sourceRanges, src));
  c = narrow(c, (m) => (m.sourcePorts.length === 0 ? 0 : m.sourcePorts.includes(input.sourcePort ?? -1) ? 1 : -1));
  return c[0];
}

function serverNameScore(names: string[], sni: string): number {
  if (names.length === 0) return 0;
  let best = -1;
  for (const n of names) {
    if (n === sni) return 1_000_000;
    if (n.startsWith('*.') && sni.endsWith(n.slice(1))) best = Math.max(best, n.length);
  }
  return best;
}
