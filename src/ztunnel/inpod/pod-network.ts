/**
 * Where the node proxy listens and dials for one pod. In-pod mode (Istio
 * 1.21+): inside the pod's network namespace, every socket with SO_MARK
 * 0x539 so the pod's redirection rules let it through, dials to the app
 * keeping the caller's address (IP_TRANSPARENT). The data path sees only
 * this interface; which implementation runs is chosen at start.
 */
import type { Server, Socket } from 'node:net';

/**
 * A pod the node proxy serves: what ZDS's ZdsPod says of it. Its addresses are its Workload's
 * (WorkloadIndex.workloadByName), looked up when needed: ZDS may announce a pod before the
 * workload API has it.
 */
export interface ServedPod {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  /** The pod's network namespace (ZDS hands it over); absent in the shared-namespace implementation. */
  netnsFd?: number;
}

export interface PodNetwork {
  /** Human-readable, for logs and /config_dump. */
  readonly mode: string;
  /** A listening server for the pod's port (15001, 15006, 15008); connections arrive on 'connection'. */
  listen(pod: ServedPod, port: number): Promise<Server>;
  /**
   * Where the pod's HBONE server listens: an address, or a listening socket's fd (made in the pod's
   * namespace), as net.Server.listen takes them.
   */
  listenHbone(pod: ServedPod, port: number): { port: number; host: string } | { fd: number };
  /** A TCP connection from inside the pod to host:port, from `sourceIp` when given (the caller's, kept); resolves once connected. */
  connect(pod: ServedPod, host: string, port: number, sourceIp?: string): Promise<Socket>;
  /**
   * The pod's outbound HBONE connections' TCP socket to host:port (connecting), made where the pod's own
   * traffic is: in-pod, inside its namespace (its address the source, its veth the way out), as ztunnel
   * dials. Absent: HBONE is dialled from the node proxy's own namespace.
   */
  hboneSocket?(pod: ServedPod, host: string, port: number): Socket;
}
