/**
 * Inbound, for one pod: HBONE on 15008 (mutual TLS with the pod's
 * certificate; each CONNECT authorized with the caller's SPIFFE id, then
 * the app dialled from inside the pod with the caller's address kept, as
 * forwarded: for= names it) and plain text on 15006 (the original
 * destination, policy with no identity: STRICT refuses it). The destination
 * must be this pod: a tunnel to another address is refused (401), as
 * ztunnel refuses to be used as a relay.
 */
import type { Server, Socket } from 'node:net';
import { logger } from '../../log.js';
import { errorMessage } from '../../errors.js';
import { originalDestination } from '../../proxy/listener/original-dst.js';
import { HboneServer, type Decision } from '../hbone/server.js';
import type { HboneRequest } from '../hbone/connect-request.js';
import type { SpiffeId } from '../hbone/spiffe-peer.js';
import { splice } from '../hbone/splice.js';
import type { WorkloadCertificate } from '../hbone/workload-tls.js';
import { ZTUNNEL_PORTS } from '../redirect/config.js';
import { authorize, type L4Connection, type Verdict } from '../policy/evaluate.js';
import type { TcpMetrics } from '../admin/tcp-metrics.js';
import type { PodNetwork, ServedPod } from '../inpod/pod-network.js';
import { canonicalIp } from '../state/ip.js';
import type { WorkloadIndex } from '../state/workload-index.js';
import { connectionLabels } from './labels.js';
import { forwardedSource } from './forwarded-source.js';

const log = logger('ztunnel');
const OWN_PORTS: ReadonlySet<number> = new Set(Object.values(ZTUNNEL_PORTS));

export interface InboundDeps {
  index: WorkloadIndex;
  network: PodNetwork;
  metrics: TcpMetrics;
  trustDomain: string;
}

export class Inbound {
  readonly #d: InboundDeps;

  constructor(d: InboundDeps) {
    this.#d = d;
  }

  /** Policy for a connection to `pod`; logs and counts a refusal. */
  check(pod: ServedPod, conn: L4Connection): Verdict {
    const w = this.#d.index.workloadOf(pod);
    if (!w) return { allow: false, reason: `pod ${pod.namespace}/${pod.name} is not in the workload API (yet)` };
    if (!w.addresses.includes(conn.destinationIp)) return { allow: false, reason: `destination ${conn.destinationIp} is not pod ${pod.namespace}/${pod.name} (${w.addresses.join(', ')})` };
    if (OWN_PORTS.has(conn.destinationPort)) return { allow: false, reason: `port ${conn.destinationPort} is the node proxy's own` };
    const v = authorize(this.#d.index.policiesFor(w), conn);
    if (!v.allow) {
      this.#d.metrics.refused('policy');
      log.info('connection denied', { pod: `${pod.namespace}/${pod.name}`, source: conn.sourceIp, identity: conn.identity ? `${conn.identity.namespace}/${conn.identity.serviceAccount}` : 'none', port: conn.destinationPort, reason: v.reason });
    }
    return v;
  }

  /** The pod's HBONE server (its certificate now), listening where `listen` says. */
  async hbone(pod: ServedPod, certificate: WorkloadCertificate, listen: (s: HboneServer) => Promise<unknown>): Promise<HboneServer> {
    const server = new HboneServer({
      certificate,
      trustDomain: this.#d.trustDomain,
      authorize: (peer, req) => this.#authorizeTunnel(pod, peer, req),
      dial: async (dest, { peer, request }) => {
        const sourceIp = this.#callerIp(peer, request);
        const socket = await this.#d.network.connect(pod, dest.host, dest.port, sourceIp);
        this.#count(socket, connectionLabels('destination', { workload: sourceIp ? this.#d.index.workloadByIp(sourceIp) : undefined, principal: peer.uri }, { workload: this.#d.index.workloadOf(pod) }, true));
        return socket;
      },
    });
    await listen(server);
    return server;
  }

  /**
   * The caller's address a tunnel may claim: `forwarded: for=` when it is an address of a workload with the
   * peer's own identity; without one (a sidecar sends none), the tunnel's own TCP source under the same rule
   * (a sidecar pod, or a node proxy dialling from its pod). Undefined: no known source.
   */
  #callerIp(peer: SpiffeId, req: HboneRequest): string | undefined {
    const claimed = forwardedSource(this.#d.index, peer, req.forwardedFor);
    if (claimed !== undefined || req.connectionSource === undefined) return claimed;
    return forwardedSource(this.#d.index, peer, { host: req.connectionSource });
  }

  #authorizeTunnel(pod: ServedPod, peer: SpiffeId, req: HboneRequest): Decision {
    const sourceIp = this.#callerIp(peer, req);
    if (req.forwardedFor && canonicalIp(req.forwardedFor.host) !== sourceIp) log.info('forwarded for= ignored: not an address of the peer\'s identity', { pod: `${pod.namespace}/${pod.name}`, peer: peer.uri, forwarded: req.forwardedFor.host });
    const v = this.check(pod, {
      sourceIp: sourceIp ?? '',
      destinationIp: canonicalIp(req.destination.host),
      destinationPort: req.destination.port,
      identity: { trustDomain: peer.trustDomain, namespace: peer.namespace, serviceAccount: peer.serviceAccount },
    });
    return v.allow ? 'allow' : 'deny';
  }

  /** The plain-text port (15006): no identity. */
  servePlaintext(pod: ServedPod, server: Server): void {
    server.on('connection', (socket: Socket) => {
      socket.on('error', () => undefined);
      const dst = originalDestination(socket);
      const sourceIp = canonicalIp(socket.remoteAddress ?? '');
      const v = this.check(pod, { sourceIp, destinationIp: canonicalIp(dst.address), destinationPort: dst.port });
      if (!v.allow) return void socket.destroy();
      this.#d.network.connect(pod, canonicalIp(dst.address), dst.port, sourceIp).then(
        (upstream) => {
          this.#count(upstream, connectionLabels('destination', { workload: this.#d.index.workloadByIp(sourceIp) }, { workload: this.#d.index.workloadOf(pod) }, false));
          return splice(socket, upstream);
        },
        (err: unknown) => {
          log.warn('inbound plain text: the app is unreachable', { pod: `${pod.namespace}/${pod.name}`, port: dst.port, error: errorMessage(err) });
          socket.destroy();
        },
      );
    });
  }

  /** Opened now, closed with its bytes when the app side closes (sent: toward the app). */
  #count(app: Socket, labels: ReturnType<typeof connectionLabels>): void {
    this.#d.metrics.opened(labels);
    app.once('close', () => this.#d.metrics.closed(labels, app.bytesWritten, app.bytesRead));
  }
}

