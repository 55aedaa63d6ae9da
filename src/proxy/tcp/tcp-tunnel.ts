/**
 * The TCP proxy with tunneling_config: the connection's bytes go inside an
 * HTTP/2 CONNECT stream to the endpoint (HBONE when the endpoint is IP:15008
 * with istiod's TLS), opened with the HBONE client of src/ztunnel/hbone —
 * one implementation of the CONNECT, its pooling and its settings. TLS is the
 * cluster's: the workload certificate from SDS, the server's SAN checked as
 * its validation context says. A refused CONNECT (any answer but 200) or a
 * failed connect is UF, before a byte of the connection is sent.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HboneClient } from '../../ztunnel/hbone/client.js';
import { parseHostPort } from '../../ztunnel/hbone/connect-request.js';
import { splice } from '../../ztunnel/hbone/splice.js';
import type { ConnContext } from '../listener/conn-context.js';
import { connStateSource } from '../listener/internal-conn.js';
import type { FilterStateSetter } from '../internal/set-filter-state.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import { logger } from '../../log.js';
import type { TunnelingPlan } from './tunneling-plan.js';

const log = logger('tcp');

/** One HBONE client (its pool of HTTP/2 connections) per endpoint. */
const clients = new WeakMap<Host, HboneClient>();

function clientFor(host: Host, cluster: UpstreamCluster): HboneClient | Error {
  const tls = host.settings.tls;
  if (cluster.plan.upstreamHttp !== 'http2') return new Error(`cluster ${cluster.plan.name}: tunneling needs HTTP/2 protocol options`);
  if (!tls) return new Error(`cluster ${cluster.plan.name}: tunneling over plaintext HTTP/2 is not supported (TLS only)`);
  let c = clients.get(host);
  if (!c) clients.set(host, (c = new HboneClient({ tls, identity: cluster.plan.name, connectTimeoutMs: cluster.plan.connectTimeoutMs })));
  return c;
}

function format(f: FilterStateSetter['format'], conn: ConnContext): string {
  const src = connStateSource(conn);
  let out = '';
  for (const p of f) out += typeof p === 'string' ? p : p(src) ?? '';
  return out;
}

export interface TunnelOutcome {
  /** The tunnel is up: bytes flow (`done` is called when both sides closed). */
  opened(): void;
  /** It could not be opened (UF). */
  failed(err: Error): void;
  /** Both sides closed. */
  done(sent: number, received: number): void;
}

export function tunnelTcp(down: Socket, t: TunnelingPlan, conn: ConnContext, cluster: UpstreamCluster, host: Host, idleMs: number, out: TunnelOutcome): void {
  const client = clientFor(host, cluster);
  if (client instanceof Error) {
    out.failed(client);
    return;
  }
  down.pause();
  const authority = format(t.hostname, conn);
  const headers: Record<string, string> = {};
  for (const h of t.headers) headers[h.name] = format(h.value, conn);
  const destination = parseHostPort(authority) ?? { host: host.address, port: host.port };
  client.connect({ address: host.address, port: host.port, destination, authority, headers, expectedIdentities: [] }).then(
    (tunnel) => relay(down, tunnel, idleMs, out),
    (err: Error) => {
      log.debug('tunnel not opened', { cluster: cluster.plan.name, host: host.key, authority, error: err.message });
      out.failed(err);
    },
  );
}

function relay(down: Socket, tunnel: Duplex, idleMs: number, out: TunnelOutcome): void {
  out.opened();
  if (down.destroyed) {
    tunnel.destroy();
    out.done(0, 0);
    return;
  }
  let sent = 0;
  let received = 0;
  down.on('data', (b: Buffer) => { received += b.length; });
  tunnel.on('data', (b: Buffer) => { sent += b.length; });
  tunnel.on('error', () => undefined);
  if (idleMs > 0) down.setTimeout(idleMs, () => { down.destroy(); tunnel.destroy(); });
  void splice(down, tunnel).then(() => out.done(sent, received));
  down.resume();
}
