/**
 * envoy.filters.http.set_filter_state: on the request's headers, each
 * configured value is formatted and stored in the stream's filter state
 * (internal/set-filter-state.ts). istiod's connect_authority filter on the
 * HBONE terminate listener stores the CONNECT's :authority as
 * envoy.filters.listener.original_dst.local_ip, shared once with upstream:
 * the internal listener behind it serves the tunnel as a connection to that
 * address.
 */
import { CONTINUE, type FilterStatus, type HttpFilter } from '../filter.js';
import type { HttpStream } from '../stream.js';
import { applySetFilterState, type FilterStateSetter, type StateSource } from '../../internal/set-filter-state.js';

export class SetFilterStateFilter implements HttpFilter {
  readonly name: string;
  readonly #setters: readonly FilterStateSetter[];

  constructor(name: string, setters: readonly FilterStateSetter[]) {
    this.name = name;
    this.#setters = setters;
  }

  decodeHeaders(ex: HttpStream): FilterStatus {
    ex.filterState = applySetFilterState(this.#setters, streamSource(ex), ex.filterState);
    return CONTINUE;
  }
}

function streamSource(ex: HttpStream): StateSource {
  const h = ex.req.headers;
  const conn = ex.conn;
  return {
    header: (name) => {
      if (name === ':authority') return ex.info.authority || undefined;
      const v = h[name];
      return Array.isArray(v) ? v.join(',') : v;
    },
    downstreamLocal: conn.local,
    downstreamRemote: conn.remote,
    peerUriSan: conn.peerUriSan ?? '',
    localUriSan: conn.tls?.localUriSans()[0] ?? '',
    filterState: ex.filterState ?? conn.filterState,
  };
}
