/**
 * Loading the native addon (native/): lazily, once. When it cannot load
 * (not Linux, not built, disabled) callers get a reason instead of an
 * exception, so the proxy can refuse capture listeners and the node proxy
 * its pods with a clear message rather than route traffic wrongly.
 * The files beside this one wrap the addon's functions by concern.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TrellisError } from '../errors.js';
import { env } from '../env.js';

/** A received packet: its bytes, the fds that rode along (the receiver owns them), whether the kernel cut it. */
export interface RawPacket {
  data: Buffer;
  fds: number[];
  truncated: boolean;
}

/** The addon's functions as C++ exports them (positional arguments; the wrappers validate). */
export interface Addon {
  getOriginalDst(fd: number): { address: string; port: number; family: 4 | 6 };
  setTransparent(fd: number): void;
  setKeepalive(fd: number, idleS: number, intervalS: number, probes: number): void;
  openNetns(path: string): number;
  closeFd(fd: number): void;
  listenInNetns(netnsFd: number, host: string, port: number, mark: number, transparent: boolean, backlog: number): number;
  socketFromNetns(netnsFd: number, mark: number, sourceIp: string): number;
  seqpacketListen(path: string, backlog: number): number;
  seqpacketConnect(path: string): number;
  seqpacketAccept(fd: number): number;
  seqpacketSend(fd: number, data: Buffer, passFd: number): void;
  seqpacketRecv(fd: number, max: number): RawPacket | null;
  watchReadable(fd: number, callback: (status: number) => void): object;
  unwatch(handle: object): void;
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

/** The addon, or an IO TrellisError carrying the reason it is unavailable. */
export function addon(): Addon {
  const l = load();
  if (!l.ok) throw new TrellisError('IO', l.reason);
  return l.addon;
}

/**
 * A call into the addon whose failure becomes a NATIVE TrellisError naming
 * what was attempted, with the errno Error (its `code`, e.g. EPERM) as the
 * cause; an unavailable addon stays the IO error of addon().
 */
export function nativeCall<T>(what: string, call: (a: Addon) => T): T {
  const a = addon();
  try {
    return call(a);
  } catch (err) {
    throw new TrellisError('NATIVE', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The errno name an addon failure carries (on the NATIVE error's cause), e.g. "EAGAIN". */
export function errnoOf(err: unknown): string | undefined {
  const inner = err instanceof TrellisError && err.code === 'NATIVE' ? err.cause : err;
  const code = (inner as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
