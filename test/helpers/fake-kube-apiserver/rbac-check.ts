/**
 * Would these requests pass RBAC? The API server's authorizer, reduced to
 * what `trellis install` grants: a request's verb (get, list, watch,
 * create, update, delete), API group, resource, namespace and name, checked
 * against ClusterRole rules (any namespace) and Role rules (their
 * namespace), resourceNames included. Used to show the install's
 * least-privilege RBAC is also enough for what the control plane does.
 */
import { parseRoute } from './routes.js';
import type { SeenRequest } from './server.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface Grants {
  cluster: PolicyRule[];
  /** Role rules by namespace. */
  namespaced: Record<string, PolicyRule[]>;
}

export function verbOf(r: SeenRequest, name: string | undefined): string {
  switch (r.method) {
    case 'GET':
      return name !== undefined ? 'get' : r.query.watch === 'true' || r.query.watch === '1' ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return r.method.toLowerCase();
  }
}

/** The requests RBAC would refuse, as "verb group/resource ns/name". */
export function forbidden(requests: readonly SeenRequest[], g: Grants): string[] {
  const out: string[] = [];
  for (const r of requests) {
    const route = parseRoute(r.path);
    const verb = verbOf(r, route.name);
    const resource = route.subresource ? `${route.def.plural}/${route.subresource}` : route.def.plural;
    const allows = (rule: PolicyRule) =>
      rule.apiGroups.includes(route.def.group) && rule.resources.includes(resource) && rule.verbs.includes(verb) &&
      (rule.resourceNames === undefined || (route.name !== undefined && rule.resourceNames.includes(route.name)));
    const ok = g.cluster.some(allows) || (route.namespace !== undefined && (g.namespaced[route.namespace] ?? []).some(allows));
    if (!ok) out.push(`${verb} ${route.def.group}/${resource} ${route.namespace ?? ''}/${route.name ?? ''}`);
  }
  return [...new Set(out)];
}
