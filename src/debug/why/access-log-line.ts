/**
 * Access-log lines read back into their fields: Envoy text lines of a known
 * format string (Istio's default, which the sidecars write, unless told
 * another) or JSON lines (Istio's JSON encoding: one key per field). Pure:
 * `trellis why` reads files elsewhere and asks this which lines are requests.
 */
import { ISTIO_DEFAULT_FORMAT } from '../../xds/istio-log-format.js';

/** One request as its access-log line tells it; "-" fields are undefined. */
export interface AccessLogEntry {
  startTime?: string;
  method?: string;
  path?: string;
  protocol?: string;
  /** 0 when no response was sent (the client went away first). */
  responseCode: number;
  /** Short flags in the line's order ("UF", "URX"); empty for "-". */
  flags: string[];
  details?: string;
  terminationDetails?: string;
  transportFailure?: string;
  requestId?: string;
  authority?: string;
  upstreamHost?: string;
  upstreamCluster?: string;
  downstreamLocal?: string;
  downstreamRemote?: string;
  routeName?: string;
  durationMs?: number;
}

/** The format commands the entry is built from, by field. */
const FIELD_OF: Readonly<Record<string, keyof AccessLogEntry>> = {
  START_TIME: 'startTime', 'REQ(:METHOD)': 'method', 'REQ(X-ENVOY-ORIGINAL-PATH?:PATH)': 'path', PROTOCOL: 'protocol',
  RESPONSE_CODE: 'responseCode', RESPONSE_FLAGS: 'flags', RESPONSE_CODE_DETAILS: 'details',
  CONNECTION_TERMINATION_DETAILS: 'terminationDetails', UPSTREAM_TRANSPORT_FAILURE_REASON: 'transportFailure',
  'REQ(X-REQUEST-ID)': 'requestId', 'REQ(:AUTHORITY)': 'authority', UPSTREAM_HOST: 'upstreamHost',
  UPSTREAM_CLUSTER: 'upstreamCluster', DOWNSTREAM_LOCAL_ADDRESS: 'downstreamLocal',
  DOWNSTREAM_REMOTE_ADDRESS: 'downstreamRemote', ROUTE_NAME: 'routeName', DURATION: 'durationMs',
};

/** Istio's JSON access-log keys (meshConfig.accessLogEncoding: JSON) for the same fields. */
const JSON_KEYS: Readonly<Record<string, keyof AccessLogEntry>> = {
  start_time: 'startTime', method: 'method', path: 'path', protocol: 'protocol', response_code: 'responseCode',
  response_flags: 'flags', response_code_details: 'details', connection_termination_details: 'terminationDetails',
  upstream_transport_failure_reason: 'transportFailure', x_request_id: 'requestId', authority: 'authority',
  upstream_host: 'upstreamHost', upstream_cluster: 'upstreamCluster', downstream_local_address: 'downstreamLocal',
  downstream_remote_address: 'downstreamRemote', route_name: 'routeName', duration: 'durationMs',
};

export type LineParser = (line: string) => AccessLogEntry | undefined;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A parser for lines written with `format` (Envoy's command syntax): each command becomes a capture — a
 * quoted one as short as lets the rest of the line match, one in brackets up to the ']', else one token.
 * A line that does not fit is not a request line (the proxy's own messages share the file).
 */
export function compileLineParser(format: string = ISTIO_DEFAULT_FORMAT): LineParser {
  const fields: (keyof AccessLogEntry | undefined)[] = [];
  let re = '^';
  let last = 0;
  const cmd = /%([A-Z_]+(?:\([^)]*\))?)(?::\d+)?%/g;
  for (let m = cmd.exec(format); m; m = cmd.exec(format)) {
    const before = format.slice(last, m.index);
    re += escape(before);
    const next = format[m.index + m[0].length];
    // Quoted values are not escaped by Envoy (a user agent may hold quotes): the shortest run that lets the rest match.
    re += next === '"' ? '(.*?)' : next === ']' ? '([^\\]]*)' : '(\\S*)';
    fields.push(FIELD_OF[m[1]!]);
    last = m.index + m[0].length;
  }
  re += `${escape(format.slice(last).trimEnd())}$`;
  const matcher = new RegExp(re);
  return (line) => {
    const m = matcher.exec(line.trimEnd());
    if (!m) return undefined;
    const e: AccessLogEntry = { responseCode: 0, flags: [] };
    fields.forEach((f, i) => { if (f) setField(e, f, m[i + 1]!); });
    return e;
  };
}

function setField(e: AccessLogEntry, f: keyof AccessLogEntry, raw: string): void {
  if (raw === '-' || raw === '') return;
  if (f === 'responseCode' || f === 'durationMs') {
    const n = Number(raw);
    if (Number.isInteger(n)) e[f] = n;
  } else if (f === 'flags') e.flags = raw.split(',');
  else e[f] = raw;
}

/** A JSON access-log line (Istio's keys); undefined for any other line. */
export function parseJsonLine(line: string): AccessLogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const e: AccessLogEntry = { responseCode: 0, flags: [] };
  for (const [k, v] of Object.entries(o)) {
    const f = JSON_KEYS[k];
    if (f && (typeof v === 'string' || typeof v === 'number')) setField(e, f, String(v));
  }
  return e;
}

/** A line in either encoding: JSON when it looks like it, else the text format. */
export function lineParser(format?: string): LineParser {
  const text = compileLineParser(format);
  return (line) => (line.startsWith('{') ? parseJsonLine(line) : text(line));
}
