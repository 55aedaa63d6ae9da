/**
 * The native addon's socket options for capture (native/): the original
 * destination of a redirected connection (SO_ORIGINAL_DST), IP_TRANSPARENT
 * for TPROXY listeners, and the TCP keepalive timers Node does not set.
 * Loading and the unavailable reason: addon.ts.
 */
import type { Socket } from 'node:net';
import { addon, nativeAvailable } from './addon.js';

export { nativeAvailable };

export interface OriginalDst {
  address: string;
  port: number;
  family: 4 | 6;
}

/** The file descriptor behind a net.Socket or net.Server (Node keeps it on the libuv handle). */
export function socketFd(s: Socket | { _handle?: unknown }): number | undefined {
  const handle = (s as { _handle?: { fd?: unknown } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}

/** getsockopt(SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST) on a raw fd; throws with `code` ENOENT when not redirected. */
export function getOriginalDst(fd: number): OriginalDst {
  return addon().getOriginalDst(fd);
}

/**
 * The destination the client asked for before netfilter redirected the
 * connection (conntrack's original tuple: equal to the local address when
 * nothing was redirected), or undefined when the kernel has no conntrack
 * entry for it or the socket has no fd. IPv4-mapped IPv6 addresses are
 * returned as plain IPv4.
 */
export function originalDst(socket: Socket): { address: string; port: number; family: 4 | 6 } | undefined {
  const fd = socketFd(socket);
  if (fd === undefined) return undefined;
  try {
    const d = addon().getOriginalDst(fd);
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(d.address);
    return mapped ? { address: mapped[1] as string, port: d.port, family: 4 } : d;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** SO_KEEPALIVE with TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT on a connected socket's fd (0: the system's value). */
export function setKeepalive(fd: number, idleS: number, intervalS: number, probes: number): void {
  addon().setKeepalive(fd, idleS, intervalS, probes);
}

/** setsockopt(IP_TRANSPARENT) on a listening socket's fd (needs CAP_NET_ADMIN), for TPROXY. */
export function setTransparent(fd: number): void {
  addon().setTransparent(fd);
}
