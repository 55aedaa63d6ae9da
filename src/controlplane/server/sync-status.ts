import { clip } from '../../clip.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import { shortName, type TypeUrl } from '../../xds/type-urls.js';
import type { ResourceSet } from '../wire/resource.js';

/** Per proxy and type: SYNCED when the last response was ACKed, STALE when it is pending or NACKed. */
export type SyncState = 'SYNCED' | 'STALE' | 'NOT SENT';

export interface VersionNonce {
  version: string;
  nonce: string;
}

/**
 * Longest NACK detail kept per type and stream (the rest is cut, with the
 * original size noted): Envoy lists every rejected field, which fits; a peer
 * sending megabytes would otherwise keep them in memory and in /debug/syncz.
 */
export const NACK_DETAIL_MAX = 4096;

export interface NackRecord {
  nonce: string;
  /** The error_detail message the proxy sent, at most NACK_DETAIL_MAX characters. */
  error: string;
  /** ISO time the NACK arrived. */
  at: string;
}

/**
 * What the server knows about one type on one stream. Owned and mutated only
 * by the stream handler of that connection; readers (debug, tests) take
 * snapshots with `typeStatus()`.
 */
export class TypeSync {
  sent: VersionNonce | undefined;
  sentAt: Date | undefined;
  acked: VersionNonce | undefined;
  nack: NackRecord | undefined;
  /** The resources of the last response's view: what the proxy runs once it ACKs. */
  resources: ResourceSet = new Map();

  constructor(readonly typeUrl: TypeUrl) {}

  recordSent(version: string, nonce: string, resources: ResourceSet, at = new Date()): void {
    this.sent = { version, nonce };
    this.sentAt = at;
    this.resources = resources;
  }

  /** An ACK clears an earlier NACK: the proxy now runs what we sent. */
  recordAck(nonce: string): void {
    if (!this.sent || this.sent.nonce !== nonce) return;
    this.acked = { version: this.sent.version, nonce };
    this.nack = undefined;
  }

  recordNack(nonce: string, error: string, at = new Date()): void {
    this.nack = { nonce, error: clip(error, NACK_DETAIL_MAX), at: at.toISOString() };
  }

  status(): SyncState {
    if (!this.sent) return 'NOT SENT';
    if (this.nack && this.nack.nonce === this.sent.nonce) return 'STALE';
    return this.acked?.nonce === this.sent.nonce ? 'SYNCED' : 'STALE';
  }
}

/** Snapshot of one TypeSync, as /debug/syncz prints it. */
export interface TypeStatus {
  sent?: VersionNonce;
  /** ISO time of the last response (istiod's LastSendTime: istioctl shows its age). */
  sentAt?: string;
  acked?: VersionNonce;
  nack?: NackRecord;
  status: SyncState;
}

export function typeStatus(t: TypeSync | undefined): TypeStatus {
  if (!t) return { status: 'NOT SENT' };
  const s: TypeStatus = { status: t.status() };
  if (t.sent) s.sent = { ...t.sent };
  if (t.sentAt) s.sentAt = t.sentAt.toISOString();
  if (t.acked) s.acked = { ...t.acked };
  if (t.nack) s.nack = { ...t.nack };
  return s;
}

/** One entry of /debug/syncz: istiod's syncz, with explicit fields. */
export interface ProxySyncStatus {
  /** istiod's proxy id: "pod.namespace" (the node id when it is not Istio-shaped). */
  proxy: string;
  /** The full node id as the proxy sent it. */
  nodeId: string;
  namespace: string;
  stream: 'sotw' | 'delta';
  connectedAt: string;
  /** istiod's cluster id: node metadata CLUSTER_ID, "Kubernetes" when unset (istiod's default). */
  clusterId: string;
  /** Keyed by short name: CDS, EDS, LDS, RDS (and SDS when subscribed). */
  types: Record<string, TypeStatus>;
  istioVersion?: string;
  /** The proxy's user agent ("trellis/0.1.0", "grpc-node-js/1.14.7"), for proxies that send no ISTIO_VERSION. */
  userAgent?: string;
}

/** The minimum a connection exposes for status reporting. */
export interface SyncSource {
  readonly node: ProxyNode;
  readonly kind: 'sotw' | 'delta';
  readonly connectedAt: Date;
  readonly types: ReadonlyMap<TypeUrl, TypeSync>;
}

const alwaysListed: readonly TypeUrl[] = [
  'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  'type.googleapis.com/envoy.config.listener.v3.Listener',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
];

/** Builds the syncz entry of one connection; CDS/LDS/RDS/EDS are always present. */
export function proxySyncStatus(c: SyncSource): ProxySyncStatus {
  const types: Record<string, TypeStatus> = {};
  for (const url of alwaysListed) types[shortName[url]] = typeStatus(c.types.get(url));
  for (const [url, t] of c.types) types[shortName[url]] = typeStatus(t);
  const entry: ProxySyncStatus = {
    proxy: proxyId(c.node),
    nodeId: c.node.id,
    namespace: c.node.namespace,
    stream: c.kind,
    connectedAt: c.connectedAt.toISOString(),
    clusterId: c.node.metadata['CLUSTER_ID'] || 'Kubernetes',
    types,
  };
  const istioVersion = c.node.metadata['ISTIO_VERSION'];
  if (istioVersion) entry.istioVersion = istioVersion;
  if (c.node.userAgent) entry.userAgent = c.node.userAgent;
  return entry;
}

/** istiod's short proxy id, "pod.namespace", used by syncz and config_dump?proxyID=. */
export function proxyId(node: ProxyNode): string {
  return node.namespace && node.podName !== node.id ? `${node.podName}.${node.namespace}` : node.id;
}
