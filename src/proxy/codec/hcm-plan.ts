/** Compiles an HttpConnectionManager filter config into what the connection manager runs. */
import {
  HttpConnectionManager_CodecType as Codec,
  type HttpConnectionManager,
} from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { compileAccessLog, type AccessLogSink } from '../telemetry/access-log-sink.js';
import { compileHttpFilters, type HttpFilterConfig } from '../filters/http-filters.js';
import { durationMs } from '../util.js';
import { compileRouteConfig, type RouteTable } from '../router/route-table.js';
import { compileLimits, type HcmLimits } from './limits.js';
import { compileHcmUpgrades, type UpgradeMap } from './upgrade-policy.js';
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
  /** Request head size and HTTP/2 stream limits (limits.ts). */
  limits: HcmLimits;
  /** The HTTP filters before the router, in the listed order (filters/http-filters.ts). */
  filters: HttpFilterConfig[];
  /** forward_client_cert_details and set_current_client_cert_details. */
  xfcc: XfccPlan;
  /** upgrade_configs: the upgrade types allowed unless a route says otherwise. */
  upgrades: UpgradeMap;
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
  const filters = compileHttpFilters(hcm, path, errors);
  return {
    statPrefix: hcm.statPrefix,
    rdsName,
    inline,
    codec: hcm.codecType === Codec.HTTP1 ? 'http1' : hcm.codecType === Codec.HTTP2 ? 'http2' : 'auto',
    accessLogs: hcm.accessLog.map((a, i) => compileAccessLog(a, `${path}.accessLog[${i}]`, errors)).filter((x): x is AccessLogSink => !!x),
    generateRequestId: hcm.generateRequestId ?? true,
    streamIdleTimeoutMs: durationMs(hcm.streamIdleTimeout) ?? 300_000,
    requestHeadersTimeoutMs: durationMs(hcm.requestHeadersTimeout) ?? DEFAULT_REQUEST_HEADERS_TIMEOUT_MS,
    limits: compileLimits(hcm),
    filters,
    xfcc: compileXfcc(hcm, path, errors),
    upgrades: compileHcmUpgrades(hcm.upgradeConfigs, path, errors),
    statNames: {
      total: `http.${hcm.statPrefix}.downstream_rq_total`,
      byClass: [0, 1, 2, 3, 4, 5].map((c) => `http.${hcm.statPrefix}.downstream_rq_${c}xx`),
    },
  };
}
