/**
 * Which HTTP filters an HttpConnectionManager runs: compiled from its
 * http_filters list when the listener arrives (JWT authentication, RBAC,
 * fault injection, CORS, set_filter_state, on-demand CDS, the router last), then instantiated once per
 * connection manager. Any other filter that is not marked is_optional is
 * refused: running without, say, an ext_authz filter would be silently
 * wrong, so the listener is NACKed instead, as
 * Envoy does for an unknown extension.
 */
import type { HttpConnectionManager } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { unpackTyped } from '../util.js';
import type { HttpFilter } from './filter.js';
import { CorsFilter, corsStatNames, type CorsStatNames } from './cors/cors-filter.js';
import { FaultFilter } from './fault/fault-filter.js';
import { HttpRbacFilter } from './rbac/http-rbac-filter.js';
import { compileHttpRbac, type Counters, type RbacFilterPlan } from './rbac/rbac-filter.js';
import { JwtAuthenticationSchema } from '../../gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { compileJwtAuthn, type JwtPlan } from './jwt/jwt-plan.js';
import { JwtAuthnFilter } from './jwt/jwt-filter.js';
import { ConfigSchema as SetFilterStateSchema } from '../../gen/envoy/extensions/filters/http/set_filter_state/v3/set_filter_state_pb.js';
import { compileSetFilterState, type FilterStateSetter } from '../internal/set-filter-state.js';
import { SetFilterStateFilter } from './set-filter-state/set-filter-state-filter.js';
import { OnDemandSchema } from '../../gen/envoy/extensions/filters/http/on_demand/v3/on_demand_pb.js';
import { compileOnDemand, ON_DEMAND_TYPE, type OnDemandPlan } from './on-demand/on-demand-plan.js';
import { OnDemandFilter, type OnDemandClusters } from './on-demand/on-demand-filter.js';

/** One configured filter before the router, in the listed order. */
export type HttpFilterConfig =
  | { kind: 'fault' }
  | { kind: 'cors'; stats: CorsStatNames }
  | { kind: 'rbac'; name: string; rbac: RbacFilterPlan }
  | { kind: 'jwt'; name: string; jwt: JwtPlan }
  | { kind: 'setFilterState'; name: string; setters: FilterStateSetter[] }
  | { kind: 'onDemand'; name: string; plan: OnDemandPlan };

const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const CORS = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors';
const JWT_AUTHN = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
const SET_FILTER_STATE = 'type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config';

/**
 * The filters before the router, in the listed order (Envoy runs them so). Fault injection is driven by
 * the route's typed_per_filter_config; an HCM that does not list the fault filter still gets it just
 * before the router, as before filters were ordered.
 */
export function compileHttpFilters(hcm: HttpConnectionManager, path: string, errors: string[]): HttpFilterConfig[] {
  const out: HttpFilterConfig[] = [];
  hcm.httpFilters.forEach((f, i) => {
    const p = `${path}.httpFilters[${i}]`;
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    const type = any?.typeUrl;
    if (type === ROUTER) {
      if (i !== hcm.httpFilters.length - 1) errors.push(`${p}: the router must be the last HTTP filter`);
    } else if (type === FAULT) {
      out.push({ kind: 'fault' });
    } else if (type === CORS) {
      // Driven by the routes' typed_per_filter_config; an HCM without it ignores their CORS policies, as Envoy does.
      out.push({ kind: 'cors', stats: corsStatNames(hcm.statPrefix) });
    } else if (type === RBAC && any) {
      const cfg = unpackTyped(any, HttpRbacSchema, p, errors);
      if (cfg) out.push({ kind: 'rbac', name: f.name, rbac: compileHttpRbac(cfg, hcm.statPrefix, `${p}.typedConfig`, errors) });
    } else if (type === JWT_AUTHN && any) {
      const cfg = unpackTyped(any, JwtAuthenticationSchema, p, errors);
      if (cfg) out.push({ kind: 'jwt', name: f.name, jwt: compileJwtAuthn(cfg, `${p}.typedConfig`, errors) });
    } else if (type === SET_FILTER_STATE && any) {
      const cfg = unpackTyped(any, SetFilterStateSchema, p, errors);
      if (cfg) out.push({ kind: 'setFilterState', name: f.name, setters: compileSetFilterState(cfg.onRequestHeaders, `${p}.typedConfig.onRequestHeaders`, errors) });
    } else if (type === ON_DEMAND_TYPE && any) {
      const cfg = unpackTyped(any, OnDemandSchema, p, errors);
      if (cfg) out.push({ kind: 'onDemand', name: f.name, plan: compileOnDemand(cfg, `${p}.typedConfig`, errors) });
    } else if (!f.isOptional) {
      errors.push(`${p}: unsupported HTTP filter ${f.name} (${type ?? 'no typed_config'})`);
    }
  });
  if (!out.some((s) => s.kind === 'fault')) out.push({ kind: 'fault' });
  return out;
}

const FAULT_INSTANCE = new FaultFilter();

/** What the filters share across connection managers (one of each per proxy). */
export interface FilterDeps {
  /** The router filter, last in every filter list. */
  router: HttpFilter;
  counters: Counters;
  /** On-demand cluster discovery (upstream/cluster-discovery.ts), for envoy.filters.http.on_demand. */
  clusters: OnDemandClusters;
}

/** A connection manager's filter list: the configured filters in order, then the router. */
export function createFilters(configs: readonly HttpFilterConfig[], deps: FilterDeps): HttpFilter[] {
  const out: HttpFilter[] = configs.map((c) => {
    switch (c.kind) {
      case 'fault': return FAULT_INSTANCE;
      case 'cors': return new CorsFilter(c.stats, deps.counters);
      case 'jwt': return new JwtAuthnFilter(c.name, c.jwt);
      case 'setFilterState': return new SetFilterStateFilter(c.name, c.setters);
      case 'onDemand': return new OnDemandFilter(c.name, c.plan, deps.clusters);
      default: return new HttpRbacFilter(c.name, c.rbac, deps.counters);
    }
  });
  out.push(deps.router);
  return out;
}
