/** IP text → the raw bytes the workload API carries (4 or 16), and CIDRs → (bytes, prefix length). */
import { isIPv4, isIPv6 } from 'node:net';
import { ipv6Bytes } from '../../../proxy/agent/dns/wire.js';

export function ipBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  return isIPv6(ip) ? new Uint8Array(ipv6Bytes(ip)) : undefined;
}

/** "10.0.0.0/8" or a bare address (a host range: /32, /128), as istiod reads ipBlocks; undefined when invalid. */
export function cidrBytes(text: string): { address: Uint8Array; length: number } | undefined {
  const [ip = '', len, extra] = text.trim().split('/');
  const address = extra === undefined ? ipBytes(ip) : undefined;
  if (!address) return undefined;
  const max = address.length * 8;
  if (len === undefined) return { address, length: max };
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  return { address, length: Number(len) };
}
