/**
 * Request paths as kube-apiserver lays them out:
 *   /api/v1/RESOURCE[/NAME[/status]]                         (core, cluster-scoped or all namespaces)
 *   /api/v1/namespaces/NS/RESOURCE[/NAME[/status]]           (core, one namespace)
 *   /apis/GROUP/VERSION/... the same for named groups.
 */
import { failure } from './status.js';
import { resourceDefs, type ResourceDef } from './kinds.js';

export interface Route {
  def: ResourceDef;
  version: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

const notServed = () => failure(404, 'NotFound', 'the server could not find the requested resource');

export function parseRoute(pathname: string): Route {
  const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (segs[0] === 'api') {
    group = '';
    rest = segs.slice(1);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1]!;
    rest = segs.slice(2);
  } else {
    throw notServed();
  }
  const [version, ...path] = rest;
  let namespace: string | undefined;
  let tail = path;
  if (path[0] === 'namespaces' && path.length >= 3) {
    namespace = path[1];
    tail = path.slice(2);
  }
  const [plural, name, subresource, ...extra] = tail;
  const def = resourceDefs.find((d) => d.group === group && d.plural === plural && d.versions.includes(version ?? ''));
  if (!def || extra.length > 0 || (namespace !== undefined && !def.namespaced)) throw notServed();
  return { def, version: version!, namespace, name, subresource };
}
