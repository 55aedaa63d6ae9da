/**
 * The HBONE request: an HTTP/2 CONNECT (RFC 9113 §8.5) whose :authority is
 * the destination IP:port, with no :scheme, :path or :protocol (an extended
 * CONNECT, RFC 8441, is something else). Pure: headers in, a destination and
 * the metadata Istio sends (baggage, forwarded, traceparent) or a refusal out.
 */
import { isIP } from 'node:net';

export interface Destination {
  host: string;
  port: number;
}

export interface HboneRequest {
  destination: Destination;
  /** The original source from `forwarded: for="ip:port"` (RFC 7239), when a valid one was sent. */
  forwardedFor?: Destination;
  baggage?: string;
  traceparent?: string;
  /** The HBONE connection's TCP peer address, set by the server (not a header): where the tunnel came from. */
  connectionSource?: string;
}

export type RequestVerdict = { ok: true; request: HboneRequest } | { ok: false; status: 400; reason: string };

type Headers = Record<string, string | string[] | undefined>;

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

/** "10.0.0.1:80" or "[fd00::1]:80" → host and port; undefined for anything else (names too: HBONE carries addresses). */
export function parseHostPort(s: string): Destination | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port < 1 || port > 65535 || isIP(host) !== (m[1] ? 6 : 4)) return undefined;
  return { host, port };
}

export const formatHostPort = (d: Destination): string => (isIP(d.host) === 6 ? `[${d.host}]:${d.port}` : `${d.host}:${d.port}`);

/** The `for` of the first forwarded element, quoted or not; undefined when absent or not an IP:port. */
export function parseForwardedFor(value: string | undefined): Destination | undefined {
  if (!value) return undefined;
  const first = value.split(',')[0]!;
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    const v = pair.slice(eq + 1).trim();
    return parseHostPort(v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v);
  }
  return undefined;
}

/** forwarded as ztunnel writes it: for="ip:port" (quoted: the port's ':' is not a token character). */
export const formatForwarded = (source: Destination): string => `for="${formatHostPort(source)}"`;

/** Checks a CONNECT's pseudo-headers and reads the destination and Istio's metadata. */
export function readConnectRequest(h: Headers): RequestVerdict {
  const method = one(h[':method']);
  // As ztunnel (inbound.rs, NonConnectMethod): anything but CONNECT on the HBONE port is 400.
  if (method !== 'CONNECT') return { ok: false, status: 400, reason: `method ${JSON.stringify(method)} is not CONNECT` };
  for (const p of [':scheme', ':path', ':protocol']) {
    if (h[p] !== undefined) return { ok: false, status: 400, reason: `a CONNECT carries no ${p} (RFC 9113 §8.5)` };
  }
  const authority = one(h[':authority']);
  const destination = authority === undefined ? undefined : parseHostPort(authority);
  if (!destination) return { ok: false, status: 400, reason: `:authority ${JSON.stringify(authority ?? null)} is not IP:port` };
  const request: HboneRequest = { destination };
  const forwardedFor = parseForwardedFor(one(h['forwarded']));
  if (forwardedFor) request.forwardedFor = forwardedFor;
  const baggage = one(h['baggage']);
  if (baggage !== undefined) request.baggage = baggage;
  const traceparent = one(h['traceparent']);
  if (traceparent !== undefined) request.traceparent = traceparent;
  return { ok: true, request };
}
