/** The per-request state the router stages share (one object, no per-stage closures). */
import type { DownstreamRequest, DownstreamResponse } from '../codec/downstream.js';
import type { StreamInfo } from '../telemetry/stream-info.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type { HcmPlan } from '../codec/hcm-plan.js';
import type { HeaderOp } from '../router/header-ops.js';
import type { ConnContext } from '../listener/conn-context.js';

/** During a drain, ends HTTP/1.1 keep-alive after this response (Envoy's drain behaviour). */
export function closeIfDraining(ex: { conn: ConnContext; req: { httpVersionMajor: number }; res: { setHeader(n: string, v: string): unknown } }): void {
  if (ex.conn.draining && ex.req.httpVersionMajor === 1) ex.res.setHeader('connection', 'close');
}

export interface Exchange {
  req: DownstreamRequest;
  res: DownstreamResponse;
  plan: HcmPlan;
  conn: ConnContext;
  info: StreamInfo;
  cluster: UpstreamCluster | undefined;
  /** Weighted-cluster header ops, applied before the route's. */
  clusterRequestOps: readonly HeaderOp[];
  clusterResponseOps: readonly HeaderOp[];
  /** Set when the downstream went away before the response completed. */
  downstreamGone: boolean;
  finished: boolean;
  /** Consistent-hash key for ring hash clusters, from the route's hash policy. */
  hash: number | undefined;
  /** Cancels whatever is in flight upstream when the downstream goes away. */
  abortUpstream: (() => void) | undefined;
  /** The route timeout, still running while the response body streams (Envoy's timeout spans the whole response). */
  routeTimer: NodeJS.Timeout | undefined;
  /** The route timeout fired: a reset after the headers is UT, not UR. */
  routeTimedOut: boolean;
}

/** Envoy's local reply bodies, so clients and tests see the familiar text. */
export const LOCAL_BODY: Record<string, string> = {
  NR: '',
  NC: '',
  UH: 'no healthy upstream',
  UF: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  UO: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
  UR: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  UT: 'upstream request timeout',
  FI: 'fault filter abort',
};
