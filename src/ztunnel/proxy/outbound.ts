/**
 * Outbound (the pod's 15001): the connection's original destination →
 * a workload IP (that pod), a service VIP (one ready endpoint, the port
 * mapped), or neither (outside the mesh: passed through as is); one with a
 * waypoint goes to the waypoint instead (state/waypoint.ts), over HBONE
 * whatever the destination's protocol, or is refused if it has none. Mesh
 * destinations with HBONE get a tunnel to endpointIP:15008 with the source
 * pod's certificate, the destination's SPIFFE id required of the server
 * and forwarded: for= the caller; others get plain TCP.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { logger } from '../../log.js';
import { errorMessage, TrellisError } from '../../errors.js';
import { originalDestination } from '../../proxy/listener/original-dst.js';
import { HboneClient } from '../hbone/client.js';
import { splice } from '../hbone/splice.js';
import { HBONE_PORT } from '../hbone/settings.js';
import type { WorkloadCertificates } from '../certs/workload-certificates.js';
import type { WorkloadIdentity } from '../../ca/spiffe.js';
import type { TcpMetrics } from '../admin/tcp-metrics.js';
import type { PodNetwork, ServedPod } from '../inpod/pod-network.js';
import { canonicalIp } from '../state/ip.js';
import { workloadIdentity, type WorkloadInfo } from '../state/model.js';
import type { WorkloadIndex } from '../state/workload-index.js';
import { connectionLabels } from './labels.js';

const log = logger('ztunnel');

export interface OutboundDeps {
  index: WorkloadIndex;
  network: PodNetwork;
  certs: WorkloadCertificates;
  metrics: TcpMetrics;
  trustDomain: string;
  /** The HBONE port of destinations (15008; tests may move it). */
  hbonePort?: number;
}

/** A source pod's HBONE clients: the one with the certificate in force, and those a renewal drains. */
interface PodClients {
  id: WorkloadIdentity;
  current?: { certPem: string; client: HboneClient };
  draining: Set<HboneClient>;
}

export class Outbound {
  readonly #d: OutboundDeps;
  /**
   * One HBONE client per source pod and certificate (ztunnel's pools are keyed by source address too, and
   * in-pod each pod's connections leave from its own namespace): a renewed certificate starts new
   * connections, and the old client is drained at once — its tunnels finish on their connections, each of
   * which closes with its last tunnel (idle ones at once), so short lifetimes do not pile connections up.
   */
  readonly #clients = new Map<string, PodClients>();

  constructor(d: OutboundDeps) {
    this.#d = d;
    d.certs.onRenewed((id, certificate) => this.#renewed(id, certificate.cert));
  }

  #renewed(id: WorkloadIdentity, certPem: string): void {
    for (const p of this.#clients.values()) {
      const old = p.current;
      if (!old || old.certPem === certPem || p.id.namespace !== id.namespace || p.id.serviceAccount !== id.serviceAccount) continue;
      p.current = undefined;
      p.draining.add(old.client);
      void old.client.drain().then(() => p.draining.delete(old.client));
    }
  }

  /** Serves one connection the pod's app made (redirected to 15001). */
  handle(pod: ServedPod, socket: Socket): void {
    socket.on('error', () => undefined);
    this.#handle(pod, socket).catch((err: unknown) => {
      log.warn('outbound connection failed', { pod: `${pod.namespace}/${pod.name}`, error: errorMessage(err) });
      socket.destroy();
    });
  }

  async #handle(pod: ServedPod, socket: Socket): Promise<void> {
    const dst = originalDestination(socket);
    const host = canonicalIp(dst.address);
    const source = this.#d.index.workloadOf(pod);
    const target = this.#d.index.resolve(host, dst.port, source);
    if (target.kind === 'passthrough') return this.#plain(pod, socket, host, dst.port, { workload: source }, {});
    if (target.kind === 'no-endpoint') {
      this.#d.metrics.refused('no_healthy_upstream');
      log.warn('outbound: no endpoint', { pod: `${pod.namespace}/${pod.name}`, reason: target.reason });
      return void socket.destroy();
    }
    if (target.kind === 'waypoint') {
      const via = { address: target.waypoint.addresses[0]!, port: target.port };
      const tunnel = await this.#tunnel(pod, socket, target.waypoint, target.authority.host, target.authority.port, via);
      return this.#relay(socket, tunnel, connectionLabels('source', { workload: source }, target.destination, true));
    }
    const service = target.kind === 'service' ? target.service : undefined;
    const w = target.workload;
    const ip = w.addresses[0]!;
    if (!w.hbone) return this.#plain(pod, socket, ip, target.port, { workload: source }, { workload: w, service });
    const labels = connectionLabels('source', { workload: source }, { workload: w, service }, true);
    const tunnel = await this.#tunnel(pod, socket, w, ip, target.port);
    await this.#relay(socket, tunnel, labels);
  }

  /** A tunnel to `w` (its identity required) for ip:port; `via`: the HBONE endpoint when it is not ip itself (a waypoint). */
  async #tunnel(pod: ServedPod, socket: Socket, w: WorkloadInfo, ip: string, port: number, via?: { address: string; port: number }): Promise<Duplex> {
    try {
      const id = { namespace: pod.namespace, serviceAccount: pod.serviceAccount };
      await this.#d.certs.get(id);
      // From here to connect() nothing awaits: a renewal cannot drain the client between its choice and its use.
      return await this.#client(pod, id).connect({
        address: via?.address ?? ip,
        port: this.#d.hbonePort ?? via?.port ?? HBONE_PORT,
        destination: { host: ip, port },
        expectedIdentities: [workloadIdentity(w)],
        forwardedFor: { host: canonicalIp(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 },
      });
    } catch (err) {
      this.#d.metrics.refused('hbone_failed');
      throw err;
    }
  }

  /** The pod's client with the certificate in force now (made on first use after each renewal). */
  #client(pod: ServedPod, id: WorkloadIdentity): HboneClient {
    const cert = this.#d.certs.current(id);
    if (!cert) throw new TrellisError('CA_UNAVAILABLE', `no certificate in force for ${id.namespace}/${id.serviceAccount}`);
    const p = this.#clients.get(pod.uid) ?? { id, draining: new Set<HboneClient>() };
    this.#clients.set(pod.uid, p);
    if (p.current?.certPem === cert.cert) return p.current.client;
    const { network } = this.#d;
    const client = new HboneClient({
      certificate: cert,
      identity: `spiffe://${this.#d.trustDomain}/ns/${pod.namespace}/sa/${pod.serviceAccount}`,
      ...(network.hboneSocket ? { socket: (at: { host: string; port: number }) => network.hboneSocket!(pod, at.host, at.port) } : {}),
    });
    p.current = { certPem: cert.cert, client };
    return client;
  }

  /** The pod is gone: its HBONE connections close, draining ones too (their sockets are in its namespace). */
  async forget(pod: ServedPod): Promise<void> {
    const p = this.#clients.get(pod.uid);
    this.#clients.delete(pod.uid);
    if (p) await closeAll(p);
  }

  async #plain(pod: ServedPod, socket: Socket, host: string, port: number, src: Parameters<typeof connectionLabels>[1], dst: Parameters<typeof connectionLabels>[2]): Promise<void> {
    const upstream = await this.#d.network.connect(pod, host, port);
    await this.#relay(socket, upstream, connectionLabels('source', src, dst, false));
  }

  async #relay(socket: Socket, upstream: Duplex, labels: ReturnType<typeof connectionLabels>): Promise<void> {
    this.#d.metrics.opened(labels);
    await splice(socket, upstream);
    this.#d.metrics.closed(labels, socket.bytesRead, socket.bytesWritten);
  }

  async close(): Promise<void> {
    const all = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(all.map(closeAll));
  }
}

const closeAll = (p: PodClients) => Promise.all([p.current?.client, ...p.draining].map((c) => c?.close()));
