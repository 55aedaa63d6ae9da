import { isIPv4, isIPv6 } from 'node:net';

/** An address and a prefix length: "10.0.0.0/8", or a bare address as /32 or /128. */
export interface IpPrefix {
  /** As Go's netip prints it (IPv6 compressed, lowercase); host bits are kept, not masked. */
  address: string;
  bits: number;
}

function canonical(address: string): string | undefined {
  if (isIPv4(address)) return address;
  // Zones ("fe80::1%eth0") name an interface of one machine, meaningless in a policy: refused.
  if (!isIPv6(address) || address.includes('%')) return undefined;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * Istio's reading of ipBlocks and source.ip/destination.ip values
 * (AddrStrToPrefix): a CIDR, or one address standing for itself.
 * Undefined when it is neither.
 */
export function parseIpPrefix(text: string): IpPrefix | undefined {
  const slash = text.indexOf('/');
  const address = canonical(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const max = address.includes(':') ? 128 : 32;
  if (slash < 0) return { address, bits: max };
  const len = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  return { address, bits: Number(len) };
}
