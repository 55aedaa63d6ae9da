/**
 * A cluster's upstream_connection_options.tcp_keepalive, applied to every
 * upstream connection of the cluster (HTTP/1.1, HTTP/2 and TCP proxy) once
 * it is connected, as Envoy sets it on its upstream sockets: SO_KEEPALIVE,
 * and the idle time, probe interval and probe count when given (otherwise
 * the system's). Node sets only the idle time (its libuv adds its own 1 s
 * interval and 10 probes); the native addon sets all three. Without the
 * addon the idle time still applies and the proxy warns once that the
 * configured interval and probes do not.
 */
import type { Socket } from 'node:net';
import type { Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { logger } from '../../log.js';
import { nativeAvailable, setKeepalive, socketFd } from '../../native/original-dst.js';

const log = logger('upstream');

export interface KeepalivePlan {
  /** Seconds; 0 = the system's value (Linux rejects 0, so Envoy's 0 cannot be meant literally). */
  readonly timeS: number;
  readonly intervalS: number;
  readonly probes: number;
  /** Equal keys: equal settings (a changed plan means new pools). */
  readonly key: string;
}

export function compileKeepalive(c: Cluster): KeepalivePlan | undefined {
  const k = c.upstreamConnectionOptions?.tcpKeepalive;
  if (!k) return undefined;
  const timeS = k.keepaliveTime ?? 0;
  const intervalS = k.keepaliveInterval ?? 0;
  const probes = k.keepaliveProbes ?? 0;
  return { timeS, intervalS, probes, key: `${timeS}/${intervalS}/${probes}` };
}

let warned = false;

/** Arms `socket` to get the keepalive settings when it connects (the fd exists only then). */
export function keepaliveOnConnect(socket: Socket, k: KeepalivePlan | undefined): void {
  if (k) socket.once('connect', () => apply(socket, k));
}

function apply(socket: Socket, k: KeepalivePlan): void {
  const fd = socketFd(socket);
  if (fd !== undefined && nativeAvailable().ok) {
    try {
      setKeepalive(fd, k.timeS, k.intervalS, k.probes);
      return;
    } catch (err) {
      log.warn('cannot set TCP keepalive on an upstream socket; using the idle time only', { error: (err as Error).message });
    }
  } else if ((k.intervalS > 0 || k.probes > 0) && !warned) {
    warned = true;
    log.warn('tcp_keepalive interval and probes need the native addon: only the idle time is applied', { reason: nativeReason() });
  }
  socket.setKeepAlive(true, k.timeS * 1000);
}

function nativeReason(): string {
  const n = nativeAvailable();
  return n.ok ? 'no file descriptor' : n.reason;
}
