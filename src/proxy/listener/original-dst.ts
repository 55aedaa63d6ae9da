/**
 * The original destination of an accepted connection: SO_ORIGINAL_DST via the
 * native addon (src/native/original-dst.ts) when it is built and the kernel
 * has a conntrack entry (iptables REDIRECT), else the socket's own local
 * address (no redirection, or the addon is unavailable).
 */
import type { Socket } from 'node:net';
import { nativeAvailable, originalDst } from '../../native/original-dst.js';

export interface Destination {
  address: string;
  port: number;
}

const native = nativeAvailable();
const useNative = native.ok;

/**
 * Why capture listeners (use_original_dst) cannot work here, or undefined when
 * they can. Without SO_ORIGINAL_DST every redirected connection would look
 * like a connection to 15001 itself: such listeners are refused, never run
 * silently wrong.
 */
export const captureUnavailable: string | undefined = native.ok ? undefined : native.reason;

export function originalDestination(socket: Socket): Destination {
  if (useNative) {
    try {
      const d = originalDst(socket);
      if (d) return { address: d.address, port: d.port };
    } catch {
      // fall through to the local address
    }
  }
  return { address: normalize(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
}

/** "::ffff:10.0.0.1" (dual-stack sockets) → "10.0.0.1", so prefix ranges and listener addresses match. */
export function normalize(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
