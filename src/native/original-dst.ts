/**
 * The native addon (native/): the original destination of a redirected
 * connection (SO_ORIGINAL_DST), IP_TRANSPARENT for TPROXY listeners, and
 * the TCP keepalive timers Node does not set.
 * Loaded lazily, once; when it cannot load (not Linux, not built) callers
 * get a reason instead of an exception, so the proxy can refuse capture
 * listeners with a clear message rather than route traffic wrongly.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { TrellisError } from '../errors.js';
import { env } from '../env.js';

export interface OriginalDst {
  address: string;
  port: number;
  family: 4 | 6;
}

interface Addon {
  getOriginalDst(fd: number): OriginalDst;
  setTransparent(fd: number): void;
  socketInNetns(path: string): number;
  setKeepalive(fd: number, idleS: number, intervalS: number, probes: number): void;
}

type Loaded = { ok: true; addon: Addon } | { ok: false; reason: string };

let loaded: Loaded | undefined;

/** Where node-gyp puts the addon, from dist/src/native/ or src/native/ alike. */
function addonPath(): string | undefined {
  for (const rel of ['../../../native/build/Release/trellis_native.node', '../../native/build/Release/trellis_native.node']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

function load(): Loaded {
  if (loaded) return loaded;
  if (env.nativeDisabled) {
    loaded = { ok: false, reason: 'native addon disabled by TRELLIS_NATIVE_DISABLE=1' };
    return loaded;
  }
  if (process.platform !== 'linux') {
    loaded = { ok: false, reason: `transparent capture needs Linux (this is ${process.platform})` };
    return loaded;
  }
  const path = addonPath();
  if (!path) {
    loaded = { ok: false, reason: 'native addon not built (run `npm run build:native`; needs python3, make, g++)' };
    return loaded;
  }
  try {
    loaded = { ok: true, addon: createRequire(import.meta.url)(path) as Addon };
  } catch (err) {
    loaded = { ok: false, reason: `native addon failed to load: ${err instanceof Error ? err.message : String(err)}` };
  }
  return loaded;
}

/** Whether the addon is usable; when not, `reason` is one line fit for a startup message. */
export function nativeAvailable(): { ok: true } | { ok: false; reason: string } {
  const l = load();
  return l.ok ? { ok: true } : { ok: false, reason: l.reason };
}

function addon(): Addon {
  const l = load();
  if (!l.ok) throw new TrellisError('IO', l.reason);
  return l.addon;
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

/**
 * A new non-blocking TCP/IPv4 socket's fd, created inside the network
 * namespace at `path` (/var/run/netns/NAME); needs CAP_SYS_ADMIN. The socket
 * stays in that namespace whatever the process does next.
 */
export function socketInNetns(path: string): number {
  return addon().socketInNetns(path);
}
