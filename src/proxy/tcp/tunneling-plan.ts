/**
 * TcpProxy.tunneling_config: the TCP proxy carries each connection in an
 * HTTP/2 CONNECT to the picked endpoint instead of connecting to it (istiod's
 * connect_originate listener: HBONE to IP:15008). The CONNECT's :authority is
 * `hostname` formatted for the connection (istiod: %DOWNSTREAM_LOCAL_ADDRESS%,
 * the destination restored by original_dst), headers_to_add are formatted the
 * same way. POST tunnels and response header/trailer propagation are not
 * implemented and are refused.
 */
import type { TcpProxy_TunnelingConfig } from '../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { compileStateFormat, type FilterStateSetter } from '../internal/set-filter-state.js';

type Format = FilterStateSetter['format'];

export interface TunnelingPlan {
  hostname: Format;
  headers: Array<{ name: string; value: Format }>;
}

export function compileTunneling(t: TcpProxy_TunnelingConfig | undefined, path: string, errors: string[]): TunnelingPlan | undefined {
  if (!t) return undefined;
  const p = `${path}.tunnelingConfig`;
  if (!t.hostname) errors.push(`${p}.hostname: missing`);
  if (t.usePost || t.postPath) errors.push(`${p}.usePost: POST tunnels are not supported (CONNECT only)`);
  if (t.propagateResponseHeaders || t.propagateResponseTrailers) errors.push(`${p}.propagateResponseHeaders: not supported`);
  const headers = t.headersToAdd.flatMap((h, i) => {
    const name = h.header?.key.toLowerCase() ?? '';
    if (!name || name.startsWith(':')) {
      errors.push(`${p}.headersToAdd[${i}].header.key: ${name ? 'a pseudo-header cannot be added' : 'missing'}`);
      return [];
    }
    return [{ name, value: compileStateFormat(h.header?.value ?? '', `${p}.headersToAdd[${i}].header.value`, errors) }];
  });
  return { hostname: compileStateFormat(t.hostname, `${p}.hostname`, errors), headers };
}
