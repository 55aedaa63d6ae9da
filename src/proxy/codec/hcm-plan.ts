/** Compiles an HttpConnectionManager filter config into what the connection manager runs. */
import {
  HttpConnectionManager_CodecType as Codec,
  type HttpConnectionManager,
} from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { compileAccessLog, type AccessLogSink } from '../telemetry/access-log-sink.js';
import { compileHttpRbac, type RbacFilterPlan } from '../filters/rbac/rbac-filter.js';
import { durationMs, unpackTyped } from '../util.js';
import { compileRouteConfig, type RouteTable } from '../router/route-table.js';
import { compileXfcc, type XfccPlan } from './xfcc.js';

export type { AccessLogSink } from '../telemetry/access-log-sink.js';

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
  /**
   * The HTTP filters before the router, in the listed order (Envoy runs them so). Fault injection is
   * driven by the route's typed_per_filter_config; an HCM that does not list the fault filter still
   * gets it just before the router, as before filters were ordered.
   */
  stages: HttpStage[];
  /** forward_client_cert_details and set_current_client_cert_details. */
  xfcc: XfccPlan;
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
  const stages = compileHttpFilters(hcm, path, errors);
  return {
    statPrefix: hcm.statPrefix,
    rdsName,
    inline,
    codec: hcm.codecType === Codec.HTTP1 ? 'http1' : hcm.codecType === Codec.HTTP2 ? 'http2' : 'auto',
    accessLogs: hcm.accessLog.map((a, i) => compileAccessLog(a, `${path}.accessLog[${i}]`, errors)).filter((x): x is AccessLogSink => !!x),
    generateRequestId: hcm.generateRequestId ?? true,
    streamIdleTimeoutMs: durationMs(hcm.streamIdleTimeout) ?? 300_000,
    requestHeadersTimeoutMs: durationMs(hcm.requestHeadersTimeout) ?? DEFAULT_REQUEST_HEADERS_TIMEOUT_MS,
    stages,
    xfcc: compileXfcc(hcm, path, errors),
    statNames: {
      total: `http.${hcm.statPrefix}.downstream_rq_total`,
      byClass: [0, 1, 2, 3, 4, 5].map((c) => `http.${hcm.statPrefix}.downstream_rq_${c}xx`),
    },
  };
}

export type HttpStage = { kind: 'fault' } | { kind: 'rbac'; name: string; rbac: RbacFilterPlan };

const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';

/**
 * The HTTP filters this proxy runs: RBAC, fault injection and the router.
 * Any other filter that is not marked is_optional is refused: running
 * without, say, a JWT filter would be silently wrong, so the listener is
 * NACKed instead, as Envoy does for an unknown extension.
 */
function compileHttpFilters(hcm: HttpConnectionManager, path: string, errors: string[]): HttpStage[] {
  const stages: HttpStage[] = [];
  hcm.httpFilters.forEach((f, i) => {
    const p = `${path}.httpFilters[${i}]`;
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    const type = any?.typeUrl;
    if (type === ROUTER) {
      if (i !== hcm.httpFilters.length - 1) errors.push(`${p}: the router must be the last HTTP filter`);
    } else if (type === FAULT) {
      stages.push({ kind: 'fault' });
    } else if (type === RBAC && any) {
      const cfg = unpackTyped(any, HttpRbacSchema, p, errors);
      if (cfg) stages.push({ kind: 'rbac', name: f.name, rbac: compileHttpRbac(cfg, hcm.statPrefix, `${p}.typedConfig`, errors) });
    } else if (!f.isOptional) {
      errors.push(`${p}: unsupported HTTP filter ${f.name} (${type ?? 'no typed_config'})`);
    }
  });
  if (!stages.some((s) => s.kind === 'fault')) stages.push({ kind: 'fault' });
  return stages;
}
