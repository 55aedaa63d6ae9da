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

  listen(pod: ServedPod, port: number): Promise<Server> {
    return listenOn(pod.ip, port);
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
