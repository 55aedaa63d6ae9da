/**
 * Sockets in other network namespaces (native/src/netns_socket.cc): how
 * the node proxy listens inside each ambient pod and connects from it, and
 * how `trellis up` reaches a pod's 127.0.0.1. A socket stays in the
 * namespace it was made in whatever the process does next; Node wraps the
 * returned fd (`net.createServer().listen({ fd })`, `new net.Socket({ fd })`)
 * and owns it from then on. Needs CAP_SYS_ADMIN (setns), CAP_NET_ADMIN for
 * SO_MARK and IP_TRANSPARENT.
 *
 * Errors: NATIVE TrellisErrors with the errno Error as cause (a bad
 * argument too, with code EINVAL), or the IO error naming why the addon is
 * unavailable.
 */
import { isIP } from 'node:net';
import { TrellisError } from '../errors.js';
import { nativeCall } from './addon.js';

/** The listen backlog Node uses by default. */
const DEFAULT_BACKLOG = 511;

/**
 * open(path, O_RDONLY|O_CLOEXEC) of a network namespace (/var/run/netns/NAME
 * or /proc/PID/ns/net), checked to be one (NS_GET_NSTYPE). The caller owns
 * the fd and closes it with closeFd.
 */
export function openNetns(path: string): number {
  return nativeCall(`network namespace ${path}`, (a) => a.openNetns(path));
}

export function closeFd(fd: number): void {
  nativeCall(`close fd ${fd}`, (a) => a.closeFd(fd));
}

export interface ListenInNetnsOptions {
  host: string;
  port: number;
  /** SO_MARK (0 or absent: none). */
  mark?: number;
  /** IP_TRANSPARENT (IPV6_TRANSPARENT for an IPv6 host): accept connections to addresses not local to the namespace. */
  transparent?: boolean;
  backlog?: number;
}

/** A TCP socket made in the namespace, SO_REUSEADDR, bound to host:port and listening; `net.createServer().listen({ fd })`. */
export function listenInNetns(netnsFd: number, opts: ListenInNetnsOptions): number {
  checkFd(netnsFd);
  if (isIP(opts.host) === 0) throw invalid(`listen address ${JSON.stringify(opts.host)} is not an IP address`);
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw invalid(`listen port ${opts.port} is not 0-65535`);
  const mark = checkMark(opts.mark);
  const backlog = opts.backlog ?? DEFAULT_BACKLOG;
  if (!Number.isInteger(backlog) || backlog < 0) throw invalid(`backlog ${backlog} is not a non-negative integer`);
  return nativeCall(`listen on ${opts.host}:${opts.port} in a network namespace`, (a) => a.listenInNetns(netnsFd, opts.host, opts.port, mark, opts.transparent === true, backlog));
}

export interface SocketFromNetnsOptions {
  mark?: number;
  /** Bind to this address (IP_TRANSPARENT: it need not be local), so the peer sees it as the caller. */
  sourceIp?: string;
}

/**
 * An unconnected non-blocking TCP socket made in the namespace, with
 * SO_MARK; with sourceIp, IP_TRANSPARENT and bind(sourceIp, 0). IPv4
 * unless sourceIp is IPv6. `new net.Socket({ fd }).connect(port, host)`.
 */
export function socketFromNetns(netnsFd: number, opts: SocketFromNetnsOptions = {}): number {
  checkFd(netnsFd);
  const mark = checkMark(opts.mark);
  const source = opts.sourceIp ?? '';
  if (source !== '' && isIP(source) === 0) throw invalid(`source address ${JSON.stringify(source)} is not an IP address`);
  return nativeCall(`socket in a network namespace${source ? ` from ${source}` : ''}`, (a) => a.socketFromNetns(netnsFd, mark, source));
}

/** A new non-blocking TCP/IPv4 socket's fd, made inside the network namespace at `path` (/var/run/netns/NAME). */
export function socketInNetns(path: string): number {
  const ns = openNetns(path);
  try {
    return socketFromNetns(ns);
  } finally {
    closeFd(ns);
  }
}

function checkFd(fd: number): void {
  if (!Number.isInteger(fd) || fd < 0) throw invalid(`${fd} is not a file descriptor`);
}

function checkMark(mark: number | undefined): number {
  const m = mark ?? 0;
  if (!Number.isInteger(m) || m < 0 || m > 0xffffffff) throw invalid(`mark ${m} is not a 32-bit unsigned integer`);
  return m;
}

function invalid(message: string): TrellisError {
  return new TrellisError('NATIVE', message, { cause: Object.assign(new Error(message), { code: 'EINVAL' }) });
}
