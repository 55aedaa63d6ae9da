/**
 * The pods this node proxy serves and their listeners: 15001 (outbound),
 * 15006 (inbound plain text), 15008 (inbound HBONE). add() is ZDS's
 * ZdsHandler.add: the pod's certificate is asked for first (the CA signs
 * only for a service account with a pod on this node), then its ports
 * listen; remove() closes them, releases the certificate and the pod's
 * network namespace. A pod that fails to start is left with nothing open.
 * A renewed certificate goes into the HBONE servers of its service
 * account's pods at once (open connections keep theirs).
 */
import type { Server } from 'node:net';
import { logger } from '../../log.js';
import { errorMessage, TrellisError } from '../../errors.js';
import { closeServer, tracked } from './close-server.js';
import { ZTUNNEL_PORTS } from '../redirect/config.js';
import type { HboneServer } from '../hbone/server.js';
import type { WorkloadCertificates } from '../certs/workload-certificates.js';
import type { Inbound } from '../proxy/inbound.js';
import type { Outbound } from '../proxy/outbound.js';
import type { WorkloadIndex } from '../state/workload-index.js';
import type { PodNetwork, ServedPod } from './pod-network.js';

const log = logger('ztunnel');

/** ZDS's ZdsPod (src/ztunnel/zds/): what the node agent says of a pod. */
export interface PodAnnouncement {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  netnsFd?: number;
}

interface Running {
  pod: ServedPod;
  servers: Server[];
  hbone?: HboneServer;
}

export interface PodProxiesDeps {
  index: WorkloadIndex;
  network: PodNetwork;
  certs: WorkloadCertificates;
  inbound: Inbound;
  outbound: Outbound;
  /** Called once the netns fd is no longer needed (ZDS hands it over on add). */
  closeFd?: (fd: number) => void;
}

export class PodProxies {
  readonly #d: PodProxiesDeps;
  readonly #pods = new Map<string, Running>();
  /** Adds and removes in order: a remove arriving during its add waits for it. */
  #chain: Promise<void> = Promise.resolve();

  constructor(d: PodProxiesDeps) {
    this.#d = d;
    d.certs.onRenewed((id, certificate) => {
      for (const r of this.#pods.values()) {
        if (r.pod.namespace === id.namespace && r.pod.serviceAccount === id.serviceAccount) r.hbone?.setCertificate(certificate);
      }
    });
  }

  get pods(): ServedPod[] {
    return [...this.#pods.values()].map((r) => r.pod);
  }

  add(a: PodAnnouncement): Promise<void> {
    return this.#queue(() => this.#add(a));
  }

  remove(uid: string): Promise<void> {
    return this.#queue(() => this.#remove(uid));
  }

  #queue(f: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(f);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #add(a: PodAnnouncement): Promise<void> {
    if (this.#pods.has(a.uid)) return;
    const pod: ServedPod = { ...a };
    const id = { namespace: a.namespace, serviceAccount: a.serviceAccount };
    const running: Running = { pod, servers: [] };
    this.#d.certs.acquire(id, a.uid);
    try {
      const certificate = await this.#d.certs.get(id);
      const outbound = tracked(await this.#d.network.listen(pod, ZTUNNEL_PORTS.outbound));
      running.servers.push(outbound);
      outbound.on('connection', (s) => this.#d.outbound.handle(pod, s));
      const plain = tracked(await this.#d.network.listen(pod, ZTUNNEL_PORTS.inboundPlaintext));
      running.servers.push(plain);
      this.#d.inbound.servePlaintext(pod, plain);
      const where = this.#d.network.listenHbone(pod, ZTUNNEL_PORTS.inboundHbone);
      running.hbone = await this.#d.inbound.hbone(pod, certificate, (s) => ('fd' in where ? s.listen(where) : s.listen(where.port, where.host)));
      // A renewal while the ports opened reached no server (the pod is not in #pods yet): catch up.
      const now = await this.#d.certs.get(id);
      if (now.cert !== certificate.cert) running.hbone.setCertificate(now);
    } catch (err) {
      // A rejected add: ZDS closes the namespace's fd itself.
      await this.#stop(running, false);
      throw new TrellisError('IO', `pod ${a.namespace}/${a.name}: ${errorMessage(err)}`, { cause: err });
    }
    this.#pods.set(a.uid, running);
    log.info('pod added', { pod: `${a.namespace}/${a.name}`, uid: a.uid, ips: this.#d.index.workloadOf(pod)?.addresses ?? [], mode: this.#d.network.mode });
  }

  async #remove(uid: string): Promise<void> {
    const r = this.#pods.get(uid);
    if (!r) return;
    this.#pods.delete(uid);
    await this.#stop(r);
    log.info('pod removed', { pod: `${r.pod.namespace}/${r.pod.name}`, uid });
  }

  /** `ownsFd`: the pod was added (then its namespace's fd is ours to close). */
  async #stop(r: Running, ownsFd = true): Promise<void> {
    await Promise.all([...r.servers.map(closeServer), r.hbone?.close(), this.#d.outbound.forget(r.pod)]);
    this.#d.certs.release({ namespace: r.pod.namespace, serviceAccount: r.pod.serviceAccount }, r.pod.uid);
    if (ownsFd && r.pod.netnsFd !== undefined) this.#d.closeFd?.(r.pod.netnsFd);
  }

  async close(): Promise<void> {
    await this.#chain;
    await Promise.all([...this.#pods.keys()].map((uid) => this.#remove(uid)));
  }
}
