/**
 * In-pod mode's PodNetwork (Istio 1.21+): every socket is made inside the
 * pod's network namespace (the fd ZDS handed over) with SO_MARK 0x539, so
 * the pod's redirection rules let the node proxy's own traffic through and
 * the replies to its transparent connections take the policy route back.
 * Listeners on 0.0.0.0 in the pod; a dial to the app binds the caller's
 * address with IP_TRANSPARENT (the app sees the real caller); outbound
 * HBONE leaves from the pod's own address.
 */
import { createServer, Socket, type Server } from 'node:net';
import { TrellisError } from '../../errors.js';
import { listenInNetns, socketFromNetns } from '../../native/netns-socket.js';
import { INPOD_MARK } from '../redirect/config.js';
import type { PodNetwork, ServedPod } from './pod-network.js';

const ANY = '0.0.0.0';

function netnsOf(pod: ServedPod): number {
  if (pod.netnsFd === undefined) throw new TrellisError('IO', `pod ${pod.namespace}/${pod.name}: no network namespace was handed over`);
  return pod.netnsFd;
}

export class NetnsNetwork implements PodNetwork {
  readonly mode = 'in-pod';

  listen(pod: ServedPod, port: number): Promise<Server> {
    const fd = listenInNetns(netnsOf(pod), { host: ANY, port, mark: INPOD_MARK });
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true });
      server.once('error', reject);
      server.listen({ fd }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  listenHbone(pod: ServedPod, port: number): { fd: number } {
    return { fd: listenInNetns(netnsOf(pod), { host: ANY, port, mark: INPOD_MARK }) };
  }

  connect(pod: ServedPod, host: string, port: number, sourceIp?: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = this.#socket(pod, { allowHalfOpen: true, sourceIp });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
      s.connect(port, host);
    });
  }

  // No transparent bind: the pod's own address is the source inside its namespace.
  hboneSocket(pod: ServedPod, host: string, port: number): Socket {
    return this.#socket(pod, { allowHalfOpen: false }).connect(port, host);
  }

  #socket(pod: ServedPod, o: { allowHalfOpen: boolean; sourceIp?: string | undefined }): Socket {
    const fd = socketFromNetns(netnsOf(pod), { mark: INPOD_MARK, ...(o.sourceIp ? { sourceIp: o.sourceIp } : {}) });
    return new Socket({ fd, readable: true, writable: true, allowHalfOpen: o.allowHalfOpen });
  }
}
