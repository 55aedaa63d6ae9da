import type { TypeUrl } from '../../xds/type-urls.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import type { ResourceSet } from '../wire/resource.js';

/**
 * The contract between translation and the xDS server.
 *
 * A Generator is bound to one immutable MeshModel (one push). The server asks
 * it for the resources of one type for one proxy; `names` is the proxy's
 * subscription, undefined for a wildcard subscription. Implementations memoise
 * per scope (namespace, Sidecar, generator) so that asking for 1,000 proxies
 * in the same scope costs one translation, and return the same XdsResource
 * objects for unchanged resources.
 *
 * Resources returned for a named subscription only include names that exist;
 * a name that does not exist is simply absent (the server reports it as such).
 */
export interface Generator {
  generate(node: ProxyNode, typeUrl: TypeUrl, names: ReadonlySet<string> | undefined): ResourceSet;
}
