/**
 * Access log sinks (Envoy's file and stdout loggers), compiled once per
 * listener config and shared by the HTTP connection manager and the TCP proxy.
 */
import type { Any } from '@bufbuild/protobuf/wkt';
import { createWriteStream } from 'node:fs';
import { FileAccessLogSchema } from '../../gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { StdoutAccessLogSchema } from '../../gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import type { SubstitutionFormatString } from '../../gen/envoy/config/core/v3/substitution_format_string_pb.js';
import type { AccessLog } from '../../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { compileFormat, compileJsonFormat, ISTIO_DEFAULT_FORMAT, type Formatter } from './access-log-format.js';
import { unpackTyped } from '../util.js';

export interface AccessLogSink {
  format: Formatter;
  write(line: string): void;
}

const sinks = new Map<string, (line: string) => void>();

/**
 * One writer per file path, shared by every listener that logs to it, opened
 * by the first line: compiling a listener has no side effect, so a config
 * that is NACKed (or only validated) creates no file.
 */
function writerFor(path: string): (line: string) => void {
  if (path === '/dev/stdout' || path === '') return (l) => process.stdout.write(l);
  if (path === '/dev/stderr') return (l) => process.stderr.write(l);
  return (l) => {
    let w = sinks.get(path);
    if (!w) {
      const s = createWriteStream(path, { flags: 'a' });
      s.on('error', () => undefined);
      w = (line) => s.write(line);
      sinks.set(path, w);
    }
    w(l);
  };
}

export function compileAccessLog(a: AccessLog, path: string, errors: string[]): AccessLogSink | undefined {
  if (a.configType.case !== 'typedConfig') {
    errors.push(`${path}.typedConfig: missing`);
    return undefined;
  }
  const any: Any = a.configType.value;
  const file = any.typeUrl.endsWith('FileAccessLog') ? unpackTyped(any, FileAccessLogSchema, path, errors) : undefined;
  if (file) {
    const f = file.accessLogFormat.case === 'logFormat' ? file.accessLogFormat.value : undefined;
    const legacy = file.accessLogFormat.case === 'format' ? file.accessLogFormat.value : undefined;
    return { format: legacy ? compileFormat(legacy) : formatOf(f), write: writerFor(file.path) };
  }
  const stdout = any.typeUrl.endsWith('StdoutAccessLog') ? unpackTyped(any, StdoutAccessLogSchema, path, errors) : undefined;
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
