/** One row of the VirtualService → Envoy route feature tables. */
import type { Route } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { buildOutboundRouteConfig } from '../../../src/controlplane/translate/routes/index.js';
import { bookinfo, fqdn, scopeOf } from './fixture.js';
import { reviewsVs, serialised, vhost } from './check.js';

export interface Case {
  feature: string;
  /** The reviews VirtualService's `http:` list. */
  http: string;
  /** Extra spec lines (indented two spaces) before `http:`. */
  extra?: string;
  /** Further YAML documents (DestinationRules). */
  docs?: string;
  /** The proxy's labels (sourceLabels matches). */
  labels?: Record<string, string>;
  check(routes: Route[]): void;
}

/** The routes of reviews' virtual host in RouteConfiguration "9080", built from the case's YAML. */
export function routesFor(k: Case): Route[] {
  const model = bookinfo(reviewsVs(k.http, k.extra) + (k.docs === undefined ? '' : `---\n${k.docs}\n`));
  const rc = serialised(buildOutboundRouteConfig(scopeOf(model, 'default', k.labels), 9080));
  return vhost(rc, `${fqdn('reviews')}:9080`).routes;
}
