/**
 * Everything one router proxy kind receives: the Gateways its labels select,
 * merged; their listeners and route configurations; and, as clusters, the
 * outbound clusters of the services the bound VirtualServices route to
 * (what istiod sends with PILOT_FILTER_GATEWAY_CLUSTER_CONFIG: a gateway
 * needs no cluster its routes cannot reach). Built once per
 * (namespace, labels) and push, shared by the routers that match.
 */
import { ListenerSchema } from '../../../gen/envoy/config/listener/v3/listener_pb.js';
import { toResource, type ResourceSet, type XdsResource } from '../../wire/resource.js';
import { routeConfigResource } from '../../wire/route-resource.js';
import type { MeshModel } from '../../registry/model.js';
import { visibleServices } from '../../registry/visibility.js';
import type { ProxyNode } from '../../../xds/proxy-node.js';
import type { RouteScope } from '../routes/index.js';
import { ScopeResources, type RouteBuilders } from '../scope-resources.js';
import type { SharedCache } from '../shared-cache.js';
import { destinationHosts, virtualServicesForGateway } from './bound.js';
import { credentialResources, verifiedCredentials, type VerifiedCredentials } from './credential-secrets.js';
import { buildGatewayRouteConfig } from './http-routes.js';
import { gatewayListeners, type GatewaySecurity } from './listeners.js';
import { requestSecurity } from '../inbound-security.js';
import { mergeGateways, type MergedGateway } from './merge.js';

export class GatewayResources {
  readonly merged: MergedGateway;
  /** The clusters and endpoints: a scope over the services the routes reach. */
  readonly scope: ScopeResources;
  readonly #routeScope: RouteScope;
  readonly #security: () => GatewaySecurity;
  #listeners?: Map<string, XdsResource>;
  #routeNames?: ReadonlySet<string>;
  readonly #routes = new Map<string, XdsResource | null>();
  readonly #named = new WeakMap<ReadonlySet<string>, ResourceSet>();
  readonly #secrets = new WeakMap<ReadonlySet<string>, ResourceSet>();
  #verified: VerifiedCredentials | undefined;
  readonly #model: MeshModel;
  readonly #namespace: string;

  constructor(key: string, model: MeshModel, node: ProxyNode, labels: Readonly<Record<string, string>>, shared: SharedCache, routes: RouteBuilders) {
    const namespace = node.namespace;
    this.#model = model;
    this.#namespace = namespace;
    this.merged = mergeGateways(model, model.gatewaysFor(labels, namespace), namespace, labels);
    const hosts = new Set<string>();
    for (const gw of this.merged.gatewayNames) {
      for (const vs of virtualServicesForGateway(model, namespace, gw)) for (const h of destinationHosts(vs, model.domainSuffix)) hosts.add(h);
    }
    const services = visibleServices(model.services, namespace, undefined).filter((s) => hosts.has(s.hostname));
    const selectedRules = model.selectedDestinationRules(namespace, labels);
    this.#routeScope = { model, namespace, services, node: { ...node, labels }, ...(selectedRules ? { selectedRules } : {}) };
    const request = requestSecurity(model, namespace, labels, shared);
    this.#security = () => {
      const { authn, authz } = request.make();
      return { http: [...authn, ...authz.http], tcp: authz.tcp };
    };
    this.scope = new ScopeResources({ key, scope: this.#routeScope, registryOnly: false, generator: 'envoy' }, shared, routes);
  }

  listeners(): Map<string, XdsResource> {
    if (this.#listeners) return this.#listeners;
    const out = new Map<string, XdsResource>();
    for (const l of gatewayListeners(this.#routeScope, this.merged, this.#security())) out.set(l.name, toResource(ListenerSchema, l.name, l));
    return (this.#listeners = out);
  }

  routeNames(): ReadonlySet<string> {
    return (this.#routeNames ??= new Set([...this.merged.serversByRoute.keys()].sort()));
  }

  /** Memoised on the identity of `names`, so the same subscription gets the same Map. */
  routeConfigs(names: ReadonlySet<string>): ResourceSet {
    const memo = this.#named.get(names);
    if (memo) return memo;
    const out = new Map<string, XdsResource>();
    for (const name of names) {
      let hit = this.#routes.get(name);
      if (hit === undefined) {
        const rc = buildGatewayRouteConfig(this.#routeScope, this.merged, name);
        hit = rc ? routeConfigResource(name, rc) : null;
        this.#routes.set(name, hit);
      }
      if (hit) out.set(name, hit);
    }
    this.#named.set(names, out);
    return out;
  }

  /**
   * The credentialName Secrets asked for, from the router's own namespace or, for the Gateway API
   * certificateRefs its config names, the granted one (credential-secrets.ts); memoised like routeConfigs.
   */
  secrets(names: ReadonlySet<string>): ResourceSet {
    let hit = this.#secrets.get(names);
    this.#verified ??= verifiedCredentials(this.merged, this.#namespace);
    if (!hit) this.#secrets.set(names, (hit = credentialResources(this.#model, this.#namespace, names, this.#verified)));
    return hit;
  }
}
