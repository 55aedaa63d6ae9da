/**
 * Envoy's access log format strings (%START_TIME%, %REQ(X?Y):N%, ...),
 * compiled once into a list of literal and field writers.
 */
import type { StreamInfo } from './stream-info.js';

export { ISTIO_DEFAULT_FORMAT } from '../../xds/istio-log-format.js';

type Part = string | ((s: StreamInfo) => string);
export type Formatter = (s: StreamInfo) => string;

const dash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));

const simple: Record<string, (s: StreamInfo) => string> = {
  START_TIME: (s) => s.startTime.toISOString(),
  PROTOCOL: (s) => dash(s.protocol),
  RESPONSE_CODE: (s) => String(s.responseCode),
  RESPONSE_FLAGS: (s) => s.flagString(),
  RESPONSE_FLAGS_LONG: (s) => s.flagLongString(),
  RESPONSE_CODE_DETAILS: (s) => dash(s.responseCodeDetails),
  CONNECTION_TERMINATION_DETAILS: (s) => dash(s.connectionTerminationDetails),
  UPSTREAM_TRANSPORT_FAILURE_REASON: () => '-',
  BYTES_RECEIVED: (s) => String(s.bytesReceived),
  BYTES_SENT: (s) => String(s.bytesSent),
  DURATION: (s) => String(s.durationMs),
  UPSTREAM_HOST: (s) => dash(s.upstreamHost),
  UPSTREAM_CLUSTER: (s) => dash(s.upstreamCluster),
  UPSTREAM_LOCAL_ADDRESS: () => '-',
  DOWNSTREAM_LOCAL_ADDRESS: (s) => dash(s.downstreamLocal),
  DOWNSTREAM_REMOTE_ADDRESS: (s) => dash(s.downstreamRemote),
  DOWNSTREAM_PEER_URI_SAN: (s) => dash(s.downstreamPeerUriSan),
  REQUESTED_SERVER_NAME: (s) => dash(s.requestedServerName),
  ROUTE_NAME: (s) => dash(s.routeName),
};

function headerOf(h: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** %REQ(A?B):N% — header A, else B, truncated to N characters. */
function headerField(which: 'REQ' | 'RESP', arg: string, max: number | undefined): (s: StreamInfo) => string {
  const [a, b] = arg.toLowerCase().split('?');
  const get = (s: StreamInfo, n: string): string | undefined => {
    if (which === 'REQ' && n.startsWith(':')) return n === ':method' ? s.method : n === ':path' ? s.path : n === ':authority' ? s.authority : undefined;
    return headerOf(which === 'REQ' ? s.requestHeaders : s.responseHeaders, n);
  };
  return (s) => {
    let v = get(s, a) ?? (b ? get(s, b) : undefined);
    if (v !== undefined && max !== undefined) v = v.slice(0, max);
    return dash(v);
  };
}

export function compileFormat(format: string): Formatter {
  const parts: Part[] = [];
  const re = /%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    last = m.index + m[0].length;
    const [, cmd, arg, max] = m;
    if ((cmd === 'REQ' || cmd === 'RESP') && arg !== undefined) parts.push(headerField(cmd, arg, max ? Number(max) : undefined));
    else if (simple[cmd]) parts.push(simple[cmd]);
    else parts.push('-');
  }
  if (last < format.length) parts.push(format.slice(last));
  return (s) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      out += typeof p === 'string' ? p : p(s);
    }
    return out;
  };
}

/** JSON format: each key's value is a format string. */
export function compileJsonFormat(fields: Record<string, string>): Formatter {
  const compiled = Object.entries(fields).map(([k, v]) => [k, compileFormat(v)] as const);
  return (s) => {
    const o: Record<string, string> = {};
    for (const [k, f] of compiled) o[k] = f(s);
    return JSON.stringify(o) + '\n';
  };
}
