/** Compiles an HttpConnectionManager filter config into what the connection manager runs. */
import {
  HttpConnectionManager_CodecType as Codec,
  type HttpConnectionManager,
} from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { compileAccessLog, type AccessLogSink } from '../accesslog/sink.js';
import { durationMs } from '../util.js';
import { compileRouteConfig, type RouteTable } from './route-table.js';

export type { AccessLogSink } from '../accesslog/sink.js';

export interface HcmPlan {
  statPrefix: string;
  /** RDS resource to look up per request (so route updates reach open connections). */
  rdsName: string | undefined;
  inline: RouteTable | undefined;
  codec: 'auto' | 'http1' | 'http2';
  accessLogs: AccessLogSink[];
  generateRequestId: boolean;
  streamIdleTimeoutMs: number;
  /** Envoy's request_headers_timeout; unset, 10 s rather than Envoy's "none" (issue 8: a head must not hold a connection forever). */
  requestHeadersTimeoutMs: number;
  /** Envoy's http.<stat_prefix>.downstream_rq_* counter names, built once. */
  statNames: { total: string; byClass: string[] };
}

const DEFAULT_REQUEST_HEADERS_TIMEOUT_MS = 10_000;

export function compileHcm(hcm: HttpConnectionManager, path: string, errors: string[]): HcmPlan {
  let rdsName: string | undefined;
  let inline: RouteTable | undefined;
  const rs = hcm.routeSpecifier;
  if (rs.case === 'rds') {
    rdsName = rs.value.routeConfigName;
    if (!rdsName) errors.push(`${path}.rds.routeConfigName: missing`);
  } else if (rs.case === 'routeConfig') {
    const r = compileRouteConfig(rs.value);
    if (r.ok) inline = r.table;
    else for (const e of r.errors) errors.push(`${path}.routeConfig.${e}`);
  } else {
    errors.push(`${path}.routeSpecifier: unsupported or missing (${rs.case ?? 'unset'})`);
  }
  checkHttpFilters(hcm, path, errors);
  return {
    statPrefix: hcm.statPrefix,
    rdsName,
    inline,
    codec: hcm.codecType === Codec.HTTP1 ? 'http1' : hcm.codecType === Codec.HTTP2 ? 'http2' : 'auto',
    accessLogs: hcm.accessLog.map((a, i) => compileAccessLog(a, `${path}.accessLog[${i}]`, errors)).filter((x): x is AccessLogSink => !!x),
    generateRequestId: hcm.generateRequestId ?? true,
    streamIdleTimeoutMs: durationMs(hcm.streamIdleTimeout) ?? 300_000,
    requestHeadersTimeoutMs: durationMs(hcm.requestHeadersTimeout) ?? DEFAULT_REQUEST_HEADERS_TIMEOUT_MS,
    statNames: {
      total: `http.${hcm.statPrefix}.downstream_rq_total`,
      byClass: [0, 1, 2, 3, 4, 5].map((c) => `http.${hcm.statPrefix}.downstream_rq_${c}xx`),
    },
  };
}

/**
 * The HTTP filters this proxy runs: the router, and fault injection (driven by
 * the route's typed_per_filter_config). Any other filter that is not marked
 * is_optional is refused: running without, say, an RBAC filter would be
 * silently wrong, so the listener is NACKed instead, as Envoy does for an
 * unknown extension.
 */
const HTTP_FILTERS = new Map([
  ['type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', 'router'],
  ['type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', 'fault'],
]);

function checkHttpFilters(hcm: HttpConnectionManager, path: string, errors: string[]): void {
  hcm.httpFilters.forEach((f, i) => {
    const p = `${path}.httpFilters[${i}]`;
    const type = f.configType.case === 'typedConfig' ? f.configType.value.typeUrl : undefined;
    const kind = type === undefined ? undefined : HTTP_FILTERS.get(type);
    if (kind === undefined && !f.isOptional) errors.push(`${p}: unsupported HTTP filter ${f.name} (${type ?? 'no typed_config'})`);
    if (kind === 'router' && i !== hcm.httpFilters.length - 1) errors.push(`${p}: the router must be the last HTTP filter`);
  });
}
