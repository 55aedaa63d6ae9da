/**
 * `trellis ztunnel`: the node proxy wired together. Its own certificate
 * (istio-system/ztunnel, from its token) authenticates the Delta ADS stream
 * when xDS is served where the CA is (15012), as the sidecar's does; the
 * workload API (WDS, WADS) fills the index; pods come from ZDS or, in the
 * shared-namespace mode, from the Workloads scheduled on this node; each
 * pod gets its listeners and its service account's certificate.
 */
import type http from 'node:http';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { create } from '@bufbuild/protobuf';
import { NodeSchema } from '../gen/envoy/config/core/v3/base_pb.js';
import { logger } from '../log.js';
import { errorMessage } from '../errors.js';
import { parseNode } from '../xds/parse-node.js';
import { CertAgent } from '../proxy/identity/cert-agent.js';
import { XdsClient } from '../proxy/xds-client/ads-client.js';
import { handler } from '../proxy/xds-client/resource-type.js';
import { boundPort, startZtunnelHttp, type ZtunnelAdminDeps } from './admin/admin-server.js';
import { configDump } from './admin/config-dump.js';
import { TcpMetrics } from './admin/tcp-metrics.js';
import { WorkloadCertificates, type AgentSettings } from './certs/workload-certificates.js';
import type { PodNetwork } from './inpod/pod-network.js';
import { PodProxies, type PodAnnouncement } from './inpod/pod-proxies.js';
import { Inbound } from './proxy/inbound.js';
import { Outbound } from './proxy/outbound.js';
import type { AddressInfo } from './state/model.js';
import { WorkloadIndex } from './state/workload-index.js';
import { addressType, authorizationType } from './xds/workload-types.js';

const log = logger('ztunnel');

export interface NodeProxyOptions {
  nodeName: string;
  xdsAddress: string;
  /** The CA and the node proxy's own token; the pods' certificates are asked for with it. */
  identity: Omit<AgentSettings, 'renewAt' | 'jitter'> & { caAddress: string; rootCertFile: string };
  clusterId: string;
  adminPort: number;
  /** 0: not served. */
  readinessPort: number;
  /** Where pods are served (given the index: the shared-namespace network finds pods' addresses there). */
  network: (index: WorkloadIndex) => PodNetwork;
  /**
   * Where pods come from: ZDS on this socket (in-pod mode: the node agent hands each pod's network
   * namespace over), or the Workloads whose node is this one (the shared-namespace mode).
   */
  pods: { zdsSocket: string } | 'from-workloads';
  /** Closes a pod's namespace fd once the pod is removed (ZDS's fds are the node proxy's after add). */
  closeFd?: (fd: number) => void;
  /** Who this proxy is, for its xDS node id (ztunnel's POD_NAME, POD_NAMESPACE, INSTANCE_IP). */
  self: { podName: string; podNamespace: string; ip: string };
  onQuit(): void;
}

export class NodeProxy {
  readonly #o: NodeProxyOptions;
  readonly index = new WorkloadIndex();
  readonly metrics = new TcpMetrics();
  readonly certs: WorkloadCertificates;
  readonly pods: PodProxies;
  readonly #own: CertAgent;
  readonly #xds: XdsClient;
  readonly #outbound: Outbound;
  readonly #network: PodNetwork;
  #servers: http.Server[] = [];
  #zds: { close(): Promise<void> } | undefined;
  #stopping = false;

  constructor(o: NodeProxyOptions) {
    this.#o = o;
    const trustDomain = o.identity.trustDomain;
    this.certs = new WorkloadCertificates(o.identity);
    this.#own = new CertAgent({ ...o.identity, secrets: { setAgentSecrets: () => undefined } });
    const network = o.network(this.index);
    this.#network = network;
    this.#outbound = new Outbound({ index: this.index, network, certs: this.certs, metrics: this.metrics, trustDomain });
    const inbound = new Inbound({ index: this.index, network, metrics: this.metrics, trustDomain });
    this.pods = new PodProxies({ index: this.index, network, certs: this.certs, inbound, outbound: this.#outbound, ...(o.closeFd ? { closeFd: o.closeFd } : {}) });
    const { podName, podNamespace, ip } = o.self;
    const node = create(NodeSchema, {
      id: `ztunnel~${ip}~${podName}.${podNamespace}~${podNamespace}.svc.cluster.local`,
      cluster: o.clusterId,
      metadata: { NAMESPACE: podNamespace, NODE_NAME: o.nodeName, CLUSTER_ID: o.clusterId, INSTANCE_IPS: ip },
      userAgentName: 'trellis-ztunnel',
    });
    // The control plane's own check, at start rather than on every reconnect.
    parseNode(node);
    const addresses = addressType(trustDomain);
    this.#xds = new XdsClient({
      address: o.xdsAddress,
      tls: this.#overMtls() ? () => this.#xdsTls() : undefined,
      node,
      protocol: 'delta',
      types: [addresses, authorizationType],
      handlers: [
        handler(addresses, (r) => {
          this.index.setAddresses([...r.values()].map((e) => e.value as AddressInfo));
          if (o.pods === 'from-workloads') void this.#reconcileNodePods();
        }),
        handler(authorizationType, (r) => this.index.setPolicies([...r.values()].map((e) => e.value))),
      ],
    });
  }

  /** As the sidecar: ADS over mTLS where the CA is (istiod's 15012), plaintext elsewhere. */
  #overMtls(): boolean {
    return this.#o.identity.caAddress === this.#o.xdsAddress;
  }

  #xdsTls(): ConnectionOptions {
    const c = this.#own.current;
    if (c) return { ca: c.rootsPem, cert: c.chainPem, key: c.keyPem, ALPNProtocols: ['h2'] };
    return { ca: readFileSync(this.#o.identity.rootCertFile, 'utf8'), ALPNProtocols: ['h2'] };
  }

  /** The shared-namespace mode's pods: the HBONE Workloads on this node, added and removed as the index changes. */
  async #reconcileNodePods(): Promise<void> {
    const wanted = new Map<string, PodAnnouncement>();
    for (const w of this.index.workloads.values()) {
      if (w.node === this.#o.nodeName && w.hbone) wanted.set(w.uid, { uid: w.uid, name: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount });
    }
    const served = new Set(this.pods.pods.map((p) => p.uid));
    for (const uid of served) if (!wanted.has(uid)) await this.pods.remove(uid).catch((err: unknown) => log.error('pod removal failed', { uid, error: errorMessage(err) }));
    for (const [uid, a] of wanted) if (!served.has(uid)) await this.pods.add(a).catch((err: unknown) => log.error('pod not served', { uid, error: errorMessage(err) }));
  }

  ready(): boolean {
    return !this.#stopping && this.#xds.initialFetchDone() && (!this.#overMtls() || this.#own.current !== undefined);
  }

  async start(): Promise<{ adminPort: number; readinessPort?: number }> {
    const deps: ZtunnelAdminDeps = {
      ready: () => this.ready(),
      configDump: () => configDump(this.index, this.certs.list(this.#o.identity.trustDomain), this.pods.pods, this.#o.identity.trustDomain, {
        config: { nodeName: this.#o.nodeName, xdsAddress: this.#o.xdsAddress, caAddress: this.#o.identity.caAddress, clusterId: this.#o.clusterId, trustDomain: this.#o.identity.trustDomain, podNetwork: this.#network.mode },
      }),
      prometheus: () => this.metrics.prometheus(),
      quit: () => this.#o.onQuit(),
    };
    const admin = await startZtunnelHttp(this.#o.adminPort, '127.0.0.1', deps);
    this.#servers.push(admin);
    let readinessPort: number | undefined;
    if (this.#o.readinessPort !== 0) {
      const r = await startZtunnelHttp(this.#o.readinessPort, '0.0.0.0', deps, true);
      this.#servers.push(r);
      readinessPort = boundPort(r);
    }
    this.#own.start();
    if (this.#overMtls()) await this.#own.waitReady(15_000);
    this.#xds.start();
    if (this.#o.pods !== 'from-workloads') {
      const { ZdsServer } = await import('./zds/server.js');
      const zds = new ZdsServer(this.#o.pods.zdsSocket, this.pods);
      await zds.listen();
      this.#zds = zds;
    }
    return { adminPort: boundPort(admin), ...(readinessPort === undefined ? {} : { readinessPort }) };
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#zds?.close();
    this.#xds.close();
    this.#own.stop();
    await this.pods.close();
    await this.#outbound.close();
    this.certs.close();
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
  }
}
