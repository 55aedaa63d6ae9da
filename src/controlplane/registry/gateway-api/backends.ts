/**
 * backendRefs → Istio destinations, as istiod's buildDestination: a Service
 * (the default kind) is NAME.NS.svc.DOMAIN at the ref's port; Istio's
 * `Hostname` kind names a host (a ServiceEntry's) directly. A reference to
 * another namespace needs a ReferenceGrant there. A Service that does not
 * exist stays a destination (reported): its cluster does not exist, and
 * gateway semantics make that a 500 for its share of requests, as istiod. A
 * backend that is not permitted or of an unknown kind is dropped (reported);
 * with none left the rule answers 500.
 */
import { GATEWAY_API_GROUP, type BackendObjectReference, type BackendRef, type HTTPBackendRef } from '../../../config/gateway-api.js';
import type { FieldPath } from '../../../config/field-lines.js';
import type { AnyObject, Destination, HTTPRouteDestination, RouteDestination } from '../../../config/objects.js';
import { nsOf, type ConvertContext } from './context.js';
import { headerOperations } from './filters.js';

/** The route a backend belongs to, and where in it. */
export interface BackendSite {
  readonly route: AnyObject;
  readonly path: FieldPath;
}

/** One backend as a destination, or undefined (reported) when it cannot be used; a missing Service only when `keepMissing`. */
export function destinationOf(ref: BackendObjectReference, site: BackendSite, ctx: ConvertContext, keepMissing = true): Destination | undefined {
  const routeNs = nsOf(site.route);
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const port = ref.port === undefined ? {} : { port: { number: ref.port } };
  if (group === 'networking.istio.io' && kind === 'Hostname') return { host: ref.name, ...port };
  if (group !== '' || kind !== 'Service') {
    ctx.report(site.route, site.path, 'unsupported', `backendRef kind ${group === '' ? '' : `${group}/`}${kind} is not supported (a Service, or networking.istio.io Hostname): this backend is dropped`);
    return undefined;
  }
  if (ref.name.includes('.')) {
    ctx.report(site.route, [...site.path, 'name'], 'refused', 'service name invalid; the name of the Service must be used, not the hostname.');
    return undefined;
  }
  const namespace = ref.namespace ?? routeNs;
  const grant = { fromGroup: GATEWAY_API_GROUP, fromKind: site.route.kind, fromNamespace: routeNs, toGroup: '', toKind: 'Service', toNamespace: namespace, toName: ref.name };
  if (!ctx.grants.allowed(grant)) {
    ctx.report(site.route, site.path, 'refused', `backendRef ${ref.name}/${namespace} not accessible to a ${site.route.kind} in namespace "${routeNs}" (missing a ReferenceGrant?): this backend is dropped`);
    return undefined;
  }
  const host = `${ref.name}.${namespace}.svc.${ctx.domainSuffix}`;
  if (!ctx.serviceExists(namespace, ref.name)) {
    ctx.report(site.route, [...site.path, 'name'], 'not-found', `backend(${host}) not found: ${keepMissing ? 'its share of requests is answered 500' : 'it is left out'}`);
    if (!keepMissing) return undefined;
  }
  return { host, ...port };
}

/** Weight-0 backends are left out, and a single backend carries no weight (istiod's weights). */
function weighted<R extends BackendRef>(refs: readonly R[]): { ref: R; index: number; weight: number | undefined }[] {
  const live = refs.map((ref, index) => ({ ref, index, weight: ref.weight ?? 1 })).filter((b) => b.weight > 0);
  return live.length === 1 ? [{ ...live[0]!, weight: undefined }] : live;
}

/** Is there any backend with a weight above 0? (Without one the Gateway API requires a 500.) */
export const anyWeight = (refs: readonly BackendRef[] | undefined): boolean => (refs ?? []).some((r) => (r.weight ?? 1) > 0);

/** An HTTP or gRPC rule's backends, with their own header filters. */
export function httpDestinations(refs: readonly HTTPBackendRef[], site: BackendSite, ctx: ConvertContext): HTTPRouteDestination[] {
  const out: HTTPRouteDestination[] = [];
  for (const { ref, index, weight } of weighted(refs)) {
    const at = { route: site.route, path: [...site.path, index] };
    const destination = destinationOf(ref, at, ctx);
    if (destination === undefined) continue;
    const d: HTTPRouteDestination = { destination, ...(weight === undefined ? {} : { weight }) };
    (ref.filters ?? []).forEach((f, i) => {
      const ops = f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.type === 'ResponseHeaderModifier' ? f.responseHeaderModifier : undefined;
      if (ops === undefined) {
        ctx.report(site.route, [...at.path, 'filters', i, 'type'], 'unsupported', `backendRef filter ${f.type} is not supported (only header modifiers): it is ignored`);
        return;
      }
      (d.headers ??= {})[f.type === 'RequestHeaderModifier' ? 'request' : 'response'] = headerOperations(ops);
    });
    out.push(d);
  }
  return out;
}

/** A TCP or TLS rule's backends. */
export function l4Destinations(refs: readonly BackendRef[], site: BackendSite, ctx: ConvertContext): RouteDestination[] {
  const out: RouteDestination[] = [];
  for (const { ref, index, weight } of weighted(refs)) {
    const destination = destinationOf(ref, { route: site.route, path: [...site.path, index] }, ctx);
    if (destination !== undefined) out.push({ destination, ...(weight === undefined ? {} : { weight }) });
  }
  return out;
}
