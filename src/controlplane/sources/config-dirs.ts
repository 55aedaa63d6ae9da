/**
 * The control plane's config source from its --config-dir flags: one
 * DirectorySource per directory (named DIR/file in problems when there are
 * several), merged in order, with cluster IPs allocated for Services that
 * set none.
 */
import type { Ipv4Cidr } from '../../config/cluster-ip.js';
import { ClusterIpSource } from './cluster-ip-source.js';
import { DirectorySource } from './directory-source.js';
import type { ConfigSource } from './source.js';
import { UnionSource } from './union-source.js';

export interface ConfigDirsOptions {
  emptyHoldMs: number;
  serviceCidr: Ipv4Cidr;
}

export function configSource(dirs: readonly string[], opts: ConfigDirsOptions): ConfigSource {
  const several = dirs.length > 1;
  const sources = dirs.map((d) => new DirectorySource(d, { emptyHoldMs: opts.emptyHoldMs, ...(several ? { namePrefix: `${d.replace(/\/+$/, '')}/` } : {}) }));
  return new ClusterIpSource(several ? new UnionSource(sources) : sources[0]!, opts.serviceCidr);
}
