/**
 * A raw TCP connection to an endpoint, for the TCP proxy and for terminated
 * CONNECT: in TLS when the endpoint's transport socket says so (a cluster's
 * UpstreamTlsContext or its auto-mTLS match), an Error while its secrets are
 * missing — never plaintext instead. Half-open: a FIN from one side is passed on.
 * The cluster's TCP keepalive applies (keepalive.ts). An endpoint that is an
 * internal listener gets an in-process connection, carrying `filterState`
 * (what the downstream shares with upstream) to that listener.
 */
import net, { type Socket } from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import type { Host } from './host.js';
import { keepaliveOnConnect } from './keepalive.js';
import type { FilterState } from '../internal/filter-state.js';

export function connectUpstream(host: Host, localAddress: string | undefined, filterState?: FilterState): { socket: Socket; ready: 'connect' | 'secureConnect' } | Error {
  if (host.internal) {
    const s = host.dialInternal(filterState);
    return s instanceof Error ? s : { socket: s, ready: 'connect' };
  }
  const t = host.settings.tls?.();
  if (t instanceof Error) return t;
  const o = { host: host.address, port: host.port, allowHalfOpen: true, localAddress };
  // tls.connect takes socket.connect() options too (localAddress), which its typings leave out.
  const up = t ? { socket: tls.connect({ ...t, ...o } as ConnectionOptions), ready: 'secureConnect' as const } : { socket: net.connect(o), ready: 'connect' as const };
  keepaliveOnConnect(up.socket, host.settings.keepalive);
  return up;
}

