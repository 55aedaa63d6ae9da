/**
 * Which listeners a route attaches to (the Gateway API's parentRefs rules,
 * as istiod's referenceAllowed): a Gateway parent (a Service parent is
 * GAMMA mesh routing, not implemented), its listeners narrowed by
 * sectionName and port, each listener allowing the route's kind and
 * namespace, and sharing a hostname with the route. A parentRef that
 * attaches nowhere is reported with why.
 */
import { GATEWAY_API_GROUP, type ParentReference } from '../../../config/gateway-api.js';
import type { AnyObject } from '../../../config/objects.js';
import { nsOf, type ConvertContext } from './context.js';
import { hostSubsetOf, hostsOverlap, intersectHosts } from './hostnames.js';
import type { ParentListener } from './listeners.js';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'TLSRoute';

/** A listener a route attached to, and the route hostnames it serves there. */
export interface Attachment {
  readonly parent: ParentListener;
  /**
   * The route's hostnames ("*" for none) this listener serves: for HTTP and
   * gRPC those that overlap the listener's hostname and no more specific
   * listener's (istiod's hostnameAllowedByIsolation; the gateway intersects
   * them with the server's hosts), for TLS the intersections, for TCP "*".
   */
  readonly hosts: readonly string[];
}

/** The route kinds a listener takes when allowedRoutes.kinds does not say (istiod's generateSupportedKinds). */
function defaultKinds(p: ParentListener): RouteKind[] {
  switch (p.listener.protocol) {
    case 'HTTP':
    case 'HTTPS':
      return ['HTTPRoute', 'GRPCRoute'];
    case 'TCP':
      return ['TCPRoute'];
    default:
      return (p.listener.tls?.mode ?? 'Terminate') === 'Passthrough' ? ['TLSRoute'] : ['TCPRoute', 'TLSRoute'];
  }
}

function kindAllowed(p: ParentListener, kind: RouteKind): boolean {
  const kinds = p.listener.allowedRoutes?.kinds;
  const supported = defaultKinds(p);
  if (kinds === undefined || kinds.length === 0) return supported.includes(kind);
  return supported.includes(kind) && kinds.some((k) => (k.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP && k.kind === kind);
}

const namespaceAllowed = (p: ParentListener, ns: string) => p.namespaces.includes('*') || p.namespaces.includes(ns);

/**
 * Every listener each of a route's parentRefs attaches it to, in
 * internalName order (istiod's filteredReferences); findings for the
 * parentRefs that attach nowhere.
 */
export function attachRoute(route: AnyObject & { spec: { parentRefs?: ParentReference[]; hostnames?: string[] } }, kind: RouteKind, parents: ReadonlyMap<string, readonly ParentListener[]>, ctx: ConvertContext): Attachment[] {
  const ns = nsOf(route);
  const routeHosts = route.spec.hostnames !== undefined && route.spec.hostnames.length > 0 ? route.spec.hostnames : ['*'];
  const out: Attachment[] = [];
  (route.spec.parentRefs ?? []).forEach((ref, i) => {
    const at = ['spec', 'parentRefs', i];
    const group = ref.group ?? GATEWAY_API_GROUP;
    const refKind = ref.kind ?? 'Gateway';
    if ((group === '' && refKind === 'Service') || (group === 'networking.istio.io' && refKind === 'ServiceEntry')) {
      ctx.report(route, at, 'unsupported', `a ${refKind} parent (GAMMA mesh routing for sidecars) is not implemented: this parentRef is ignored; use a VirtualService for mesh routing`);
      return;
    }
    if (group !== GATEWAY_API_GROUP || refKind !== 'Gateway') {
      ctx.report(route, at, 'unsupported', `unsupported parent: ${group}/${refKind} (a Gateway or a Service): this parentRef is ignored`);
      return;
    }
    const key = `${ref.namespace ?? ns}/${ref.name}`;
    const listeners = parents.get(key);
    if (listeners === undefined) {
      ctx.report(route, at, 'not-found', `Referenced gateway not found: "${key}" (or its class is not istio's)`);
      return;
    }
    const found = attachToGateway(listeners, ref, kind, ns, routeHosts);
    if (typeof found === 'string') ctx.report(route, at, 'refused', `not accepted by Gateway ${key}: ${found}`);
    else out.push(...found);
  });
  return out.sort((a, b) => (a.parent.internalName < b.parent.internalName ? -1 : a.parent.internalName > b.parent.internalName ? 1 : 0));
}

/** The listeners of one Gateway that take the route, or the reason none does (the Gateway API's condition reasons). */
function attachToGateway(listeners: readonly ParentListener[], ref: ParentReference, kind: RouteKind, ns: string, routeHosts: readonly string[]): Attachment[] | string {
  let reason = ref.sectionName !== undefined ? `NoMatchingParent: no listener named "${ref.sectionName}"` : 'NoMatchingParent: no listener';
  if (ref.sectionName === undefined && ref.port !== undefined) reason = `NoMatchingParent: no listener on port ${ref.port}`;
  const out: Attachment[] = [];
  for (const p of listeners) {
    if (ref.sectionName !== undefined && ref.sectionName !== p.listener.name) continue;
    if (ref.port !== undefined && ref.port !== p.listener.port) continue;
    if (!kindAllowed(p, kind)) {
      reason = `NotAllowedByListeners: listener "${p.listener.name}" does not allow ${kind}`;
      continue;
    }
    if (!namespaceAllowed(p, ns)) {
      reason = `NotAllowedByListeners: listener "${p.listener.name}" does not allow routes from namespace "${ns}"`;
      continue;
    }
    const listenerHost = p.listener.hostname;
    const sharesHost = kind === 'TCPRoute' || listenerHost === undefined || routeHosts.some((h) => hostsOverlap(h, listenerHost));
    const hosts = !sharesHost ? [] : kind === 'TCPRoute' ? ['*'] : kind === 'TLSRoute' ? intersectHosts(routeHosts, listenerHost) : routeHosts.filter((h) => allowedByIsolation(p, listeners, h));
    if (hosts.length === 0) {
      reason = `NoMatchingListenerHostname: no hostname of the route matches listener "${p.listener.name}" (${p.listener.hostname ?? '*'})`;
      continue;
    }
    out.push({ parent: p, hosts });
  }
  return out.length > 0 ? out : reason;
}

/**
 * A route hostname on a listener with a wildcard hostname: it must overlap it,
 * and a listener with a wildcard (or no) hostname leaves to a more specific
 * listener on the same port and protocol the hosts that one covers.
 */
function allowedByIsolation(p: ParentListener, all: readonly ParentListener[], host: string): boolean {
  const ours = p.listener.hostname;
  // As istiod: a route that shares some hostname with the listener (checked before) keeps all its hosts there; the gateway serves only the common ones.
  if (ours !== undefined && !ours.startsWith('*')) return true;
  if (ours !== undefined && !hostsOverlap(host, ours)) return false;
  for (const other of all) {
    const theirs = other.listener.hostname;
    if (other === p || theirs === undefined || other.listener.port !== p.listener.port || other.listener.protocol !== p.listener.protocol) continue;
    if ((ours ?? '').length > theirs.length) continue;
    if (hostSubsetOf(host, theirs)) return false;
  }
  return true;
}
