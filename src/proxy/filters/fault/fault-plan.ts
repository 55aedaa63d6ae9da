/**
 * Envoy's HTTP fault filter (envoy.filters.http.fault) as per-route config:
 * a fixed delay and/or an abort (HTTP or gRPC status) for a percentage of
 * requests. Compiled with the route; decided once per request.
 */
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema } from '../../../gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { FractionalPercent_DenominatorType as Denominator, type FractionalPercent } from '../../../gen/envoy/type/v3/percent_pb.js';
import { durationMs } from '../../util.js';
import { compileHeaderMatcher, type RoutePredicate } from '../../router/route-match.js';

export const FAULT_FILTER = 'envoy.filters.http.fault';

export interface FaultPlan {
  delayMs: number;
  /** Parts per million of requests delayed. */
  delayPpm: number;
  abortStatus: number | undefined;
  abortGrpcStatus: number | undefined;
  abortPpm: number;
  /** Only requests matching all of these are faulted. */
  headers: RoutePredicate[];
}

/** A FractionalPercent as parts per million (the CORS filter's runtime fractions too). Envoy: an unset percentage is 0 %. */
export function ppm(p: FractionalPercent | undefined): number {
  if (!p) return 0;
  const scale = p.denominator === Denominator.MILLION ? 1 : p.denominator === Denominator.TEN_THOUSAND ? 100 : 10_000;
  return Math.min(1_000_000, p.numerator * scale);
}

export function compileFault(any: Any | undefined, path: string, errors: string[]): FaultPlan | undefined {
  if (!any) return undefined;
  let f;
  try {
    f = anyUnpack(any, HTTPFaultSchema);
  } catch (err) {
    errors.push(`${path}: cannot decode ${any.typeUrl}: ${(err as Error).message}`);
    return undefined;
  }
  if (!f) {
    errors.push(`${path}: expected envoy.extensions.filters.http.fault.v3.HTTPFault, got ${any.typeUrl}`);
    return undefined;
  }
  const d = f.delay?.faultDelaySecifier;
  const a = f.abort?.errorType;
  if (a?.case === 'httpStatus' && (a.value < 200 || a.value >= 600)) errors.push(`${path}.abort.httpStatus: ${a.value} is not in [200, 600)`);
  return {
    delayMs: d?.case === 'fixedDelay' ? durationMs(d.value) ?? 0 : 0,
    delayPpm: d?.case === 'fixedDelay' ? ppm(f.delay?.percentage) : 0,
    abortStatus: a?.case === 'httpStatus' ? a.value : undefined,
    abortGrpcStatus: a?.case === 'grpcStatus' ? a.value : undefined,
    abortPpm: a?.case === 'httpStatus' || a?.case === 'grpcStatus' ? ppm(f.abort?.percentage) : 0,
    headers: f.headers.map((h, i) => compileHeaderMatcher(h, `${path}.headers[${i}]`, errors)),
  };
}

/** One draw per decision, as Envoy's runtime feature check does. */
export function hit(partsPerMillion: number): boolean {
  return partsPerMillion >= 1_000_000 || (partsPerMillion > 0 && Math.random() * 1_000_000 < partsPerMillion);
}
