/** CIDR parsing for the capture flags: split by family, spot loopback ranges. */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  family: 'v4' | 'v6';
  /** Canonical text as written into rules, always with a prefix length. */
  text: string;
  address: string;
  prefix: number;
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (→ /32, /128); undefined if invalid. */
export function parseCidr(input: string): Cidr | undefined {
  const [address, len, extra] = input.trim().split('/');
  if (extra !== undefined || address === undefined) return undefined;
  const family = isIPv4(address) ? 'v4' : isIPv6(address) ? 'v6' : undefined;
  if (family === undefined) return undefined;
  const max = family === 'v4' ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!/^\d+$/.test(len ?? String(max)) || prefix > max) return undefined;
  return { family, text: `${address}/${prefix}`, address, prefix };
}

/** True when the range's first address is a loopback address (127/8 or ::1), as Istio checks. */
export function isLoopbackCidr(c: Cidr): boolean {
  if (c.family === 'v4') return c.address.startsWith('127.');
  return c.address === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(c.address);
}

export interface SplitRanges {
  v4: Cidr[];
  v6: Cidr[];
}

export function splitByFamily(cidrs: readonly Cidr[]): SplitRanges {
  return { v4: cidrs.filter((c) => c.family === 'v4'), v6: cidrs.filter((c) => c.family === 'v6') };
}
