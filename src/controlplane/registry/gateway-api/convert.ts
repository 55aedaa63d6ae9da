/**
 * The Gateway API → the Istio config istiod converts it to
 * (pilot/pkg/config/kube/gateway): Istio Gateways for the listeners of
 * Gateways of Istio's class, VirtualServices for the routes attached to
 * them. Pure: the registry adds the result to what translation reads, so a
 * router proxy serves a Gateway API Gateway exactly as an Istio one; what
 * cannot take effect is returned as findings on the Gateway API objects.
 */
import { ISTIO_GATEWAY_CONTROLLER, MESH_CONTROLLER, WAYPOINT_CLASS, type GatewayClass, type KubernetesGateway, type KubernetesGRPCRoute, type KubernetesHTTPRoute, type KubernetesTCPRoute, type KubernetesTLSRoute, type ReferenceGrant } from '../../../config/gateway-api.js';
import type { Gateway, Namespace, VirtualService } from '../../../config/objects.js';
import { byAge } from '../policies.js';
import { nsOf, type ConvertContext, type GatewayApiFinding } from './context.js';
import { convertGateway, type ParentListener } from './listeners.js';
import { ReferenceGrants } from './reference-grants.js';
import { httpVirtualServices, tcpVirtualServices, tlsVirtualServices } from './virtual-services.js';

export type { GatewayApiFinding } from './context.js';

export interface GatewayApiInput {
  readonly classes: readonly GatewayClass[];
  readonly gateways: readonly KubernetesGateway[];
  readonly httpRoutes: readonly KubernetesHTTPRoute[];
  readonly grpcRoutes: readonly KubernetesGRPCRoute[];
  readonly tcpRoutes: readonly KubernetesTCPRoute[];
  readonly tlsRoutes: readonly KubernetesTLSRoute[];
  readonly grants: readonly ReferenceGrant[];
  readonly namespaces: readonly Namespace[];
  serviceExists(namespace: string, name: string): boolean;
  readonly domainSuffix: string;
}

export interface GatewayApiOutput {
  readonly gateways: readonly Gateway[];
  readonly virtualServices: readonly VirtualService[];
  readonly findings: readonly GatewayApiFinding[];
}

/** istiod's built-in classes: `istio` is served here; the others are kinds of gateway Trellis has no proxy for. */
const builtinClasses: Readonly<Record<string, string>> = {
  istio: ISTIO_GATEWAY_CONTROLLER,
  'istio-remote': 'istio.io/unmanaged-gateway',
  [WAYPOINT_CLASS]: MESH_CONTROLLER,
  'istio-east-west': 'istio.io/eastwest-controller',
};

/** Is the Gateway's class Istio's gateway controller's? Reported when not. */
function istioClass(gw: KubernetesGateway, classes: ReadonlyMap<string, string>, ctx: ConvertContext): boolean {
  const className = gw.spec.gatewayClassName;
  const controller = classes.get(className) ?? builtinClasses[className];
  if (controller === ISTIO_GATEWAY_CONTROLLER) return true;
  // A waypoint: served by the waypoint proxy (translate/waypoint/), not as an ingress gateway.
  if (controller === MESH_CONTROLLER) return false;
  const at = ['spec', 'gatewayClassName'];
  if (controller === undefined) ctx.report(gw, at, 'not-found', `Referenced GatewayClass not found: "${className}": this Gateway is not served`);
  else ctx.report(gw, at, 'unsupported', `GatewayClass ${className} (controller ${controller}) is not implemented, only ${ISTIO_GATEWAY_CONTROLLER} (class istio): this Gateway is not served`);
  return false;
}

export function convertGatewayApi(input: GatewayApiInput): GatewayApiOutput {
  const findings = new Map<string, GatewayApiFinding>();
  const ctx: ConvertContext = {
    domainSuffix: input.domainSuffix,
    grants: new ReferenceGrants(input.grants),
    namespaces: input.namespaces,
    serviceExists: input.serviceExists,
    // A rule split by its matches reports the same thing once per match: keep one.
    report: (object, path, kind, message) => void findings.set(`${object.kind}/${nsOf(object)}/${object.metadata.name}|${path.join('.')}|${message}`, { object, path, kind, message }),
  };
  const classes = new Map(input.classes.map((c) => [c.metadata.name, c.spec.controllerName]));
  const gateways: Gateway[] = [];
  const parents = new Map<string, ParentListener[]>();
  for (const gw of [...input.gateways].sort(byAge)) {
    if (!istioClass(gw, classes, ctx)) continue;
    const converted = convertGateway(gw, ctx);
    gateways.push(...converted.gateways);
    parents.set(`${nsOf(gw)}/${gw.metadata.name}`, converted.listeners);
  }
  const virtualServices = [
    ...httpVirtualServices([...input.httpRoutes, ...input.grpcRoutes].sort(byAge), parents, ctx),
    ...tcpVirtualServices([...input.tcpRoutes].sort(byAge), parents, ctx),
    ...tlsVirtualServices([...input.tlsRoutes].sort(byAge), parents, ctx),
  ];
  return { gateways, virtualServices, findings: [...findings.values()] };
}
