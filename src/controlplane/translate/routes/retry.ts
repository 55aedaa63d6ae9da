/**
 * Istio's retry policy (pilot/pkg/networking/core/route/retry): a default
 * policy when a route says nothing, none when attempts is 0, numeric
 * retryOn entries turned into retriable status codes, and backoff as the
 * base interval of Envoy's retry back-off.
 */
import { create } from '@bufbuild/protobuf';
import { RetryPolicySchema, RetryPolicy_RetryBackOffSchema, RetryPolicy_RetryHostPredicateSchema, type RetryPolicy } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import type { HTTPRetry } from '../../../config/objects.js';
import { parseDuration } from './values.js';

export const DefaultRetryOn = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const DefaultRetryAttempts = 2;
export const PreviousHostsPredicate = 'envoy.retry_host_predicates.previous_hosts';

/**
 * Istio's DefaultPolicy. Istio packs an empty PreviousHostsPredicate as the
 * predicate's typed_config; that message is not in our generated API nor in
 * xdsRegistry, so the predicate is named only (Envoy looks an extension up by
 * name when typed_config is absent), keeping config_dump JSON printable.
 */
export function defaultRetryPolicy(): RetryPolicy {
  return create(RetryPolicySchema, {
    retryOn: DefaultRetryOn,
    numRetries: DefaultRetryAttempts,
    retriableStatusCodes: [503],
    retryHostPredicate: [create(RetryPolicy_RetryHostPredicateSchema, { name: PreviousHostsPredicate })],
    hostSelectionRetryMaxAttempts: 5n,
  });
}

/** Most routes carry the default policy: one shared instance (route messages are never mutated once built). */
let sharedDefault: RetryPolicy | undefined;

/** Istio's ConvertPolicy: undefined means "no retries" (attempts 0 or less). */
export function retryPolicy(retries: HTTPRetry | undefined, field: string): RetryPolicy | undefined {
  if (retries === undefined) return (sharedDefault ??= defaultRetryPolicy());
  if ((retries.attempts ?? 0) <= 0) return undefined;
  const out = defaultRetryPolicy();
  out.numRetries = retries.attempts;
  if (retries.retryOn !== undefined && retries.retryOn.trim() !== '') {
    const { retryOn, codes } = parseRetryOn(retries.retryOn);
    out.retryOn = retryOn;
    out.retriableStatusCodes = codes;
  }
  const perTry = parseDuration(retries.perTryTimeout, `${field}.perTryTimeout`);
  if (perTry !== undefined) out.perTryTimeout = perTry;
  // istiod sets the base only: Envoy's max_interval defaults to ten times it. Envoy refuses a zero base.
  const backoff = parseDuration(retries.backoff, `${field}.backoff`);
  if (backoff !== undefined && (backoff.seconds > 0n || backoff.nanos > 0)) out.retryBackOff = create(RetryPolicy_RetryBackOffSchema, { baseInterval: backoff });
  return out;
}

/**
 * "503,connect-failure" → retryOn "connect-failure,retriable-status-codes",
 * codes [503]: Envoy only honours status codes under retriable-status-codes.
 */
export function parseRetryOn(text: string): { retryOn: string; codes: number[] } {
  const codes: number[] = [];
  const names: string[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const n = Number(part);
    if (/^\d+$/.test(part) && n >= 100 && n <= 599) codes.push(n);
    else names.push(part);
  }
  if (codes.length > 0 && !names.includes('retriable-status-codes')) names.push('retriable-status-codes');
  return { retryOn: names.join(','), codes };
}
