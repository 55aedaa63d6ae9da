/**
 * The fault filter (envoy.filters.http.fault) as an HTTP filter: for a route
 * with a fault plan (fault-plan.ts) and matching headers, delays the request
 * (DI) and/or aborts it with a local reply (FI; a gRPC status for gRPC
 * clients). A delay holds the chain and resumes it on a timer, unless the
 * client left meanwhile.
 */
import { continueDecoding } from '../chain.js';
import { CONTINUE, STOP, type FilterStatus, type HttpFilter } from '../filter.js';
import { grpcReply, LOCAL_BODY, localReply } from '../local-reply.js';
import { finishStream, isGrpc, type HttpStream } from '../stream.js';
import { FAULT_FILTER, hit, type FaultPlan } from './fault-plan.js';
import { routeClusterName } from '../../router/router-filter.js';

export class FaultFilter implements HttpFilter {
  readonly name = FAULT_FILTER;

  decodeHeaders(ex: HttpStream): FilterStatus {
    const f = ex.route?.fault;
    if (!f) return CONTINUE;
    for (const m of f.headers) if (!m(ex.view)) return CONTINUE;
    const abort = hit(f.abortPpm);
    if (hit(f.delayPpm) && f.delayMs > 0) {
      ex.info.addFlag('DI');
      setTimeout(afterDelay, f.delayMs, ex, f, abort);
      return STOP;
    }
    if (!abort) return CONTINUE;
    faultAbort(ex, f);
    return STOP;
  }
}

function afterDelay(ex: HttpStream, f: FaultPlan, abort: boolean): void {
  if (ex.downstreamGone) finishStream(ex);
  else if (abort) faultAbort(ex, f);
  else continueDecoding(ex);
}

function faultAbort(ex: HttpStream, f: FaultPlan): void {
  // Envoy resolves the route's cluster with the route, before any filter: an aborted request is counted for the
  // service it was routed to (Istio's destination_service), not for the address the client happened to use —
  // and for a weighted route, the cluster this request's x-request-id picks, as the router would.
  const cluster = routeClusterName(ex.route, ex.req.headers);
  if (cluster !== undefined && ex.info.upstreamCluster === '') ex.info.upstreamCluster = cluster;
  if (f.abortGrpcStatus !== undefined && ex.req.httpVersionMajor === 2 && isGrpc(ex)) {
    ex.info.addFlag('FI');
    ex.info.responseCodeDetails = 'fault_filter_abort';
    return grpcReply(ex, f.abortGrpcStatus, LOCAL_BODY.FI!);
  }
  localReply(ex, f.abortStatus ?? 503, 'FI', 'fault_filter_abort');
}
