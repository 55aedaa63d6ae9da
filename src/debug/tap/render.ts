/**
 * `trellis tap` output: `linkerd viz tap`'s lines — "req", "rsp" and "end",
 * with the flow (proxy=in|out src= dst= tls=) — or, with -o wide, the same
 * lines followed by the peers' and the route's labels (src_*, dst_*, rt_*)
 * and, on end lines, Envoy's response flags; -o json prints each event as
 * the proxy sent it, one JSON object a line. Headers (--headers) follow
 * req and rsp lines as NAME=VALUE. Pure.
 */
import { grpcCodes } from '../../controlplane/translate/routes/fault.js';
import type { TapEvent, TapHeaderList, TapPeer } from '../../proxy/tap/tap-event.js';

export type TapOutput = 'default' | 'wide' | 'json';

const micros = (d: { seconds: number; nanos: number }) => d.seconds * 1_000_000 + Math.floor(d.nanos / 1000);
const addr = (p: TapPeer) => (p.ip.includes(':') ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`);

/** Go's grpc codes.Code names, as Linkerd prints grpc-status (Unavailable, DeadlineExceeded). */
function grpcName(code: number): string {
  const upper = grpcCodes[code];
  if (upper === undefined) return `Code(${code})`;
  if (upper === 'CANCELLED') return 'Canceled';
  return upper.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
}

function headerText(h: TapHeaderList): string {
  return h.map((x) => ` ${x.name}=${/[\s"]/.test(x.valueStr) ? JSON.stringify(x.valueStr) : x.valueStr}`).join('');
}

function labels(prefix: string, m: Record<string, string>): string[] {
  return Object.keys(m).sort().map((k) => `${prefix}_${k}=${m[k]}`);
}

export function renderTapEvent(e: TapEvent, output: TapOutput): string {
  if (output === 'json') return JSON.stringify(e);
  const inbound = e.proxyDirection === 'INBOUND';
  const tls = (inbound ? e.source : e.destination).metadata.tls ?? '';
  const flow = `proxy=${inbound ? 'in ' : 'out'} src=${addr(e.source)} dst=${addr(e.destination)} tls=${tls}`;
  let line: string;
  if (e.requestInitEvent) {
    const r = e.requestInitEvent;
    line = `req id=${r.id.base}:${r.id.stream} ${flow} :method=${r.method} :authority=${r.authority} :path=${r.path}${headerText(r.headers)}`;
  } else if (e.responseInitEvent) {
    const r = e.responseInitEvent;
    line = `rsp id=${r.id.base}:${r.id.stream} ${flow} :status=${r.httpStatus} latency=${micros(r.sinceRequestInit)}µs${headerText(r.headers)}`;
  } else if (e.responseEndEvent) {
    const r = e.responseEndEvent;
    const grpc = r.grpcStatusCode === undefined ? '' : ` grpc-status=${grpcName(r.grpcStatusCode)}`;
    line = `end id=${r.id.base}:${r.id.stream} ${flow}${grpc} duration=${micros(r.sinceResponseInit)}µs response-length=${r.responseBytes}B`;
    if (output === 'wide') line += ` response-flags=${r.responseFlags}`;
  } else {
    line = `unknown ${flow}`;
  }
  if (output !== 'wide') return line;
  return [line, ...labels('src', e.source.metadata), ...labels('dst', e.destination.metadata), ...labels('rt', e.routeMeta)].join(' ');
}
