/**
 * Istio HTTPFaultInjection → Envoy HTTPFault, carried in the route's
 * typed_per_filter_config under the fault filter's name (Istio's translateFault).
 */
import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { FaultDelaySchema } from '../../../gen/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import { FaultAbortSchema, HTTPFaultSchema } from '../../../gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import type { HTTPFaultInjection } from '../../../config/objects.js';
import { fractionFromInteger, fractionFromPercent, parseDuration } from './values.js';

export const FaultFilterName = 'envoy.filters.http.fault';

/** gRPC status names as Istio accepts them in abort.grpcStatus. */
export const grpcCodes: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

/**
 * The packed HTTPFault, or undefined when neither a delay nor an abort can
 * be expressed. An absent percentage stays absent: Istio documents that as
 * "no request is delayed/aborted", which is what Envoy does with 0%.
 */
export function faultConfig(fault: HTTPFaultInjection | undefined, field: string): Any | undefined {
  if (fault === undefined) return undefined;
  const out = create(HTTPFaultSchema, {});
  const d = fault.delay;
  const fixed = parseDuration(d?.fixedDelay, `${field}.delay.fixedDelay`);
  if (d !== undefined && fixed !== undefined) {
    out.delay = create(FaultDelaySchema, { faultDelaySecifier: { case: 'fixedDelay', value: fixed } });
    if (d.percentage?.value !== undefined) out.delay.percentage = fractionFromPercent(d.percentage.value);
    else if (d.percent !== undefined) out.delay.percentage = fractionFromInteger(d.percent);
  }
  const a = fault.abort;
  const errorType = abortType(a);
  if (a !== undefined && errorType !== undefined) {
    out.abort = create(FaultAbortSchema, { errorType });
    if (a.percentage?.value !== undefined) out.abort.percentage = fractionFromPercent(a.percentage.value);
  }
  if (out.delay === undefined && out.abort === undefined) return undefined;
  return anyPack(HTTPFaultSchema, out);
}

function abortType(a: HTTPFaultInjection['abort']): { case: 'httpStatus'; value: number } | { case: 'grpcStatus'; value: number } | undefined {
  if (a?.httpStatus !== undefined) return { case: 'httpStatus', value: a.httpStatus };
  const code = a?.grpcStatus === undefined ? -1 : grpcCodes.indexOf(a.grpcStatus.toUpperCase());
  return code >= 0 ? { case: 'grpcStatus', value: code } : undefined;
}
