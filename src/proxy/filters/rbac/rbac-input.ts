/**
 * What an RBAC policy looks at: the downstream connection and, for the HTTP
 * filter, the request as Envoy's header map holds it (pseudo-headers
 * included). The network filter sees an empty header map and no path, as
 * Envoy's does.
 */
import type { ConnContext } from '../../listener/conn-context.js';
import type { DownstreamRequest } from '../../codec/downstream.js';
import type { Headers } from '../../router/header-ops.js';
import type { RequestView } from '../../router/route-match.js';
import type { DynamicMetadata } from './metadata-match.js';

/** The connection facts RBAC reads (ConnContext has them all). */
export type RbacConnection = Pick<ConnContext, 'remoteIp' | 'originalDst' | 'serverName' | 'tls'>;

export interface RbacInput extends RequestView {
  conn: RbacConnection;
  /** false for the network filter: url_path never matches there (Envoy: no :path header). */
  http: boolean;
  /** The request's dynamic metadata (JWT authentication's); undefined without any. */
  metadata: DynamicMetadata | undefined;
}

const NO_HEADERS: Headers = Object.freeze({}) as Headers;

export function networkInput(conn: RbacConnection): RbacInput {
  return { conn, http: false, path: '', query: '', headers: NO_HEADERS, metadata: undefined };
}

/**
 * The request as Envoy's HTTP/1 codec presents it to filters: :method, :path
 * (with the query), :authority (from Host, which is then no header of its
 * own) and :scheme. node:http2 already gives the pseudo-headers.
 */
export function httpInput(req: DownstreamRequest, conn: ConnContext, view: RequestView, metadata: DynamicMetadata | undefined): RbacInput {
  let headers = req.headers as Headers;
  if (req.httpVersionMajor !== 2) {
    const h1 = Object.create(headers) as Headers;
    h1[':method'] = req.method ?? '';
    h1[':path'] = req.url ?? '/';
    h1[':authority'] = headers.host;
    h1[':scheme'] = conn.tls ? 'https' : 'http';
    h1.host = undefined;
    headers = h1;
  }
  // Envoy's url_path matches the path without query and fragment.
  const hash = view.path.indexOf('#');
  return { conn, http: true, path: hash < 0 ? view.path : view.path.slice(0, hash), query: view.query, headers, metadata };
}
