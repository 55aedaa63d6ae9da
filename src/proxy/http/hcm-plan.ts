/** Compiles an HttpConnectionManager filter config into what the connection manager runs. */
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Any } from '@bufbuild/protobuf/wkt';
import { createWriteStream } from 'node:fs';
import {
  HttpConnectionManager_CodecType as Codec,
  type HttpConnectionManager,
} from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { FileAccessLogSchema } from '../../gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { StdoutAccessLogSchema } from '../../gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import type { SubstitutionFormatString } from '../../gen/envoy/config/core/v3/substitution_format_string_pb.js';
import type { AccessLog } from '../../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { compileFormat, compileJsonFormat, ISTIO_DEFAULT_FORMAT, type Formatter } from '../accesslog/format.js';
import { durationMs } from '../util.js';
import { compileRouteConfig, type RouteTable } from './route-table.js';

export interface AccessLogSink {
  format: Formatter;
  write(line: string): void;
}

export interface HcmPlan {
  statPrefix: string;
  /** RDS resource to look up per request (so route updates reach open connections). */
  rdsName: string | undefined;
  inline: RouteTable | undefined;
  codec: 'auto' | 'http1' | 'http2';
  accessLogs: AccessLogSink[];
  generateRequestId: boolean;
  streamIdleTimeoutMs: number;
  /** Envoy's http.<stat_prefix>.downstream_rq_* counter names, built once. */
  statNames: { total: string; byClass: string[] };
}

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

const sinks = new Map<string, (line: string) => void>();

/** One writer per file path, shared by every listener that logs to it. */
function writerFor(path: string): (line: string) => void {
  if (path === '/dev/stdout' || path === '') return (l) => process.stdout.write(l);
  if (path === '/dev/stderr') return (l) => process.stderr.write(l);
  let w = sinks.get(path);
  if (!w) {
    const s = createWriteStream(path, { flags: 'a' });
    s.on('error', () => undefined);
    w = (l) => s.write(l);
    sinks.set(path, w);
  }
  return w;
}

export function compileAccessLog(a: AccessLog, path: string, errors: string[]): AccessLogSink | undefined {
  if (a.configType.case !== 'typedConfig') {
    errors.push(`${path}.typedConfig: missing`);
    return undefined;
  }
  const any: Any = a.configType.value;
  const file = anyUnpack(any, FileAccessLogSchema);
  if (file && any.typeUrl.endsWith('FileAccessLog')) {
    const f = file.accessLogFormat.case === 'logFormat' ? file.accessLogFormat.value : undefined;
    const legacy = file.accessLogFormat.case === 'format' ? file.accessLogFormat.value : undefined;
    return { format: legacy ? compileFormat(legacy) : formatOf(f), write: writerFor(file.path) };
  }
  const stdout = any.typeUrl.endsWith('StdoutAccessLog') ? anyUnpack(any, StdoutAccessLogSchema) : undefined;
  if (stdout) {
    const f = stdout.accessLogFormat.case === 'logFormat' ? stdout.accessLogFormat.value : undefined;
    return { format: formatOf(f), write: writerFor('/dev/stdout') };
  }
  // Unknown loggers (OpenTelemetry, gRPC ALS) are not implemented: ignored rather than rejecting the listener.
  return undefined;
}

function formatOf(f: SubstitutionFormatString | undefined): Formatter {
  const fmt = f?.format;
  switch (fmt?.case) {
    case 'textFormat': return compileFormat(fmt.value);
    case 'textFormatSource': {
      const s = fmt.value.specifier;
      return compileFormat(s.case === 'inlineString' ? s.value : ISTIO_DEFAULT_FORMAT);
    }
    case 'jsonFormat': return compileJsonFormat(Object.fromEntries(Object.entries(fmt.value).map(([k, v]) => [k, String(v)])));
    default: return compileFormat(ISTIO_DEFAULT_FORMAT);
  }
}
