/**
 * The workload API's raw address bytes (4 or 16) as the text the sockets
 * report, in one canonical form so that an index keyed by it finds what a
 * socket says (IPv6 compressed and lower-case, IPv4-mapped IPv6 as IPv4).
 */
import { isIPv4, isIPv6 } from 'node:net';

export function ipFromBytes(b: Uint8Array): string | undefined {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return canonicalIp(groups.join(':'));
}

/** "::ffff:10.0.0.1" → "10.0.0.1"; IPv6 compressed (the URL parser's canonical form); anything else as given. */
export function canonicalIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const host = new URL(`http://[${ip}]/`).hostname;
  const v6 = host.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (!m) return v6;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
