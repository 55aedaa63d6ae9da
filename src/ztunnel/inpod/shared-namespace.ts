/**
 * The in-namespace implementation of PodNetwork: the pods' addresses are
 * the node proxy's own namespace's (ztunnel's shared mode before in-pod
 * redirection, and `trellis up`'s loopback pods on 127.0.0.x). Each pod's
 * ports listen on its own IP; a dial to the app binds the caller's IP when
 * it is local here (so the app sees the real caller) and the plain local
 * address otherwise. Redirection, where there is any, must exempt the node
 * proxy by uid (it cannot mark its sockets without the native addon).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { TrellisError } from '../../errors.js';
import type { PodNetwork, ServedPod } from './pod-network.js';

function listenOn(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true });
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function dial(host: string, port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, allowHalfOpen: true, ...(localAddress ? { localAddress } : {}) });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export class SharedNamespaceNetwork implements PodNetwork {
  readonly mode = 'shared-namespace';
  readonly #ipOf: (pod: ServedPod) => string | undefined;

  /** `ipOf`: the pod's address (its Workload's), where its ports listen. */
  constructor(ipOf: (pod: ServedPod) => string | undefined) {
    this.#ipOf = ipOf;
  }

  listen(pod: ServedPod, port: number): Promise<Server> {
    const ip = this.#ipOf(pod);
    if (!ip) return Promise.reject(new TrellisError('CONFIG_INVALID', `pod ${pod.namespace}/${pod.name}: no workload with an address for it in the workload API`));
    return listenOn(ip, port);
  }

  listenHbone(pod: ServedPod, port: number): { port: number; host: string } {
    const ip = this.#ipOf(pod);
    if (!ip) throw new TrellisError('CONFIG_INVALID', `pod ${pod.namespace}/${pod.name}: no workload with an address for it in the workload API`);
    return { port, host: ip };
  }

  async connect(_pod: ServedPod, host: string, port: number, sourceIp?: string): Promise<Socket> {
    if (!sourceIp) return dial(host, port);
    try {
      return await dial(host, port, sourceIp);
    } catch (err) {
      // The caller's address is not one of this namespace's (a pod on another node): connect as ourselves.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
      return dial(host, port);
    }
  }
}
