/**
 * HTTP/1.1 message heads (RFC 9112 §2–§6), parsed from raw bytes: request and
 * status lines, header fields into a Node-style object (lower-case names,
 * repeated names joined as node:http does), and the body framing they imply.
 * Strict: anything ambiguous (obs-fold, Content-Length with Transfer-Encoding,
 * conflicting lengths, bad tokens) is an error, never a guess.
 */

/** Limits of the HTTP/1.1 codec (Envoy's max_request_headers_kb default is 60, max headers 100). */
export const MAX_HEAD_BYTES = 60 * 1024;
export const MAX_HEADERS = 100;

export type HeaderMap = Record<string, string | string[] | undefined>;

/** How the body that follows a head is delimited. */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export interface RequestHead {
  method: string;
  url: string;
  versionMinor: number;
  headers: HeaderMap;
  framing: Framing;
  /** The connection may carry another request after this one. */
  keepAlive: boolean;
}

export interface ResponseHead {
  status: number;
  versionMinor: number;
  headers: HeaderMap;
  /** Framing before request-dependent rules (HEAD, 204, 304) are applied by the caller. */
  framing: Framing;
  keepAlive: boolean;
}

/** A malformed head; `status` is what a server answers (400, 431). */
export class HeadError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'HeadError';
    this.status = status;
  }
}

/** RFC 9110 tchar, as a lookup table. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** Field values: visible characters, spaces, tabs and obs-text; no control characters. */
function validValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

/** Index just past the blank line ending the head, or -1 if it is not complete yet. */
export function headEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf('\r\n\r\n', Math.max(0, from - 3), 'latin1');
  return i < 0 ? -1 : i + 4;
}

/**
 * Checks the bytes of an incomplete head from `from` on, and returns how far
 * it got (a trailing CR waits for the next byte). Bare LF and bare CR line
 * ends are refused rather than accepted as RFC 9112 §2.2 permits: the proxy
 * sits between two parsers, and the safe way to never disagree with the next
 * one about where a line ends is to accept only CRLF. Control characters and
 * a first byte that cannot start a method are refused too, so that garbage is
 * answered now and not after the headers timeout.
 */
export function checkPartialHead(buf: Buffer, from: number): number {
  const n = buf.length;
  if (from === 0 && n > 0 && buf[0] !== 13 && TCHAR[buf[0]!] !== 1) throw new HeadError('malformed request line');
  for (let i = from; i < n; i++) {
    const c = buf[i]!;
    if (c >= 32 && c !== 127) continue;
    if (c === 13) {
      if (i + 1 === n) return i;
      if (buf[i + 1] !== 10) throw new HeadError('bare CR in request head');
      i++;
    } else if (c === 10) throw new HeadError('bare LF in request head');
    else if (c !== 9) throw new HeadError('control character in request head');
  }
  return n;
}

/** Repeated names: set-cookie stays a list, cookie joins with "; ", the rest with ", " (node:http's rules, minus its silent drops). */
function addHeader(h: HeaderMap, name: string, value: string): void {
  const prev = h[name];
  // A plain object inherits "constructor", "toString", "__proto__"...: a peer's header of that
  // name is new, not a repeat of Object.prototype's member (found by test/fuzz/h1-head.test.ts).
  if (prev === undefined || (typeof prev !== 'string' && !Array.isArray(prev))) {
    if (name === '__proto__') Object.defineProperty(h, name, { value, enumerable: true, writable: true, configurable: true });
    else h[name] = value;
  }
  else if (name === 'set-cookie') Array.isArray(prev) ? prev.push(value) : (h[name] = [prev, value]);
  else if (name === 'content-length' || name === 'host') {
    if (prev !== value) throw new HeadError(`conflicting ${name}`);
  } else h[name] = `${prev as string}${name === 'cookie' ? '; ' : ', '}${value}`;
}

/** Lower-case names of the common header fields, so the usual spellings cost a lookup, not a new string. */
const KNOWN = new Map<string, string>();
for (const n of [
  'Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Connection', 'Content-Length', 'Content-Type',
  'Transfer-Encoding', 'Date', 'Server', 'Cache-Control', 'Cookie', 'Set-Cookie', 'Authorization', 'Keep-Alive',
  'X-Request-Id', 'X-Forwarded-For', 'X-Forwarded-Proto', 'Traceparent', 'Tracestate', 'X-B3-TraceId', 'X-B3-SpanId',
  'X-B3-ParentSpanId', 'X-B3-Sampled', 'ETag', 'Last-Modified', 'Expires', 'Vary', 'Location', 'Upgrade', 'TE', 'Expect',
]) {
  KNOWN.set(n, n.toLowerCase());
  KNOWN.set(n.toLowerCase(), n.toLowerCase());
}

/** Header fields of a head string `h`, from the line starting at `pos` (after the first line's CRLF) to its end. */
function parseFields(h: string, pos: number): HeaderMap {
  const out: HeaderMap = {};
  let count = 0;
  while (pos < h.length) {
    let eol = h.indexOf('\r\n', pos);
    if (eol < 0) eol = h.length;
    if (eol > pos) {
      if (++count > MAX_HEADERS) throw new HeadError('too many headers', 431);
      const c = h.charCodeAt(pos);
      if (c === 32 || c === 9) throw new HeadError('obsolete line folding');
      const colon = h.indexOf(':', pos);
      if (colon <= pos || colon > eol) throw new HeadError('header line without a name');
      const raw = h.slice(pos, colon);
      if (!isToken(raw)) throw new HeadError('invalid header name');
      // Optional whitespace (SP / HTAB) around the value is not part of it (RFC 9110 §5.5).
      let a = colon + 1;
      let b = eol;
      while (a < b && (h.charCodeAt(a) === 32 || h.charCodeAt(a) === 9)) a++;
      while (b > a && (h.charCodeAt(b - 1) === 32 || h.charCodeAt(b - 1) === 9)) b--;
      const value = h.slice(a, b);
      if (!validValue(value)) throw new HeadError('invalid header value');
      addHeader(out, KNOWN.get(raw) ?? raw.toLowerCase(), value);
    }
    pos = eol + 2;
  }
  return out;
}

function hasToken(v: string | string[] | undefined, token: string): boolean {
  if (v === undefined) return false;
  const s = Array.isArray(v) ? v.join(',') : v;
  return s.toLowerCase().split(',').some((t) => t.trim() === token);
}

function keepAlive(h: HeaderMap, minor: number): boolean {
  const c = h.connection;
  return minor >= 1 ? !hasToken(c, 'close') : hasToken(c, 'keep-alive');
}

/** Transfer-Encoding must end in chunked; Content-Length must be one decimal number, and not both. */
function framing(h: HeaderMap, isRequest: boolean): Framing {
  const te = h['transfer-encoding'];
  const cl = h['content-length'];
  if (te !== undefined) {
    if (cl !== undefined) throw new HeadError('both content-length and transfer-encoding');
    const codings = (te as string).toLowerCase().split(',').map((t) => t.trim());
    if (codings[codings.length - 1] === 'chunked') return { kind: 'chunked' };
    if (isRequest) throw new HeadError('transfer-encoding without chunked');
    return { kind: 'close' };
  }
  if (cl !== undefined) {
    const s = cl as string;
    if (!/^\d{1,15}$/.test(s)) throw new HeadError('invalid content-length');
    const n = Number(s);
    return n === 0 ? { kind: 'none' } : { kind: 'length', length: n };
  }
  return isRequest ? { kind: 'none' } : { kind: 'close' };
}

function versionMinor(v: string): number {
  if (v === 'HTTP/1.1') return 1;
  if (v === 'HTTP/1.0') return 0;
  throw new HeadError('unsupported HTTP version', v.startsWith('HTTP/') ? 505 : 400);
}

/** The head as one string (latin1: one char per byte, end includes the final CRLF CRLF) and where its first line ends. */
function headString(buf: Buffer, start: number, end: number): { h: string; eol: number } {
  const h = buf.toString('latin1', start, end - 4);
  const eol = h.indexOf('\r\n');
  return { h, eol: eol < 0 ? h.length : eol };
}

/** Parses a complete request head in buf[start, end) (end from headEnd()). */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead {
  const { h, eol } = headString(buf, start, end);
  const rl = h.slice(0, eol);
  const s1 = rl.indexOf(' ');
  const s2 = rl.indexOf(' ', s1 + 1);
  if (s1 <= 0 || s2 <= s1 + 1 || rl.indexOf(' ', s2 + 1) >= 0) throw new HeadError('malformed request line');
  const method = rl.slice(0, s1);
  if (!isToken(method)) throw new HeadError('invalid method');
  const url = rl.slice(s1 + 1, s2);
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 32 || c >= 127) throw new HeadError('invalid request target');
  }
  const minor = versionMinor(rl.slice(s2 + 1));
  const headers = parseFields(h, eol + 2);
  if (minor === 1 && headers.host === undefined) throw new HeadError('missing host');
  return { method, url, versionMinor: minor, headers, framing: framing(headers, true), keepAlive: keepAlive(headers, minor) };
}

/** Parses a complete response head in buf[start, end). */
export function parseResponseHead(buf: Buffer, start: number, end: number): ResponseHead {
  const { h, eol } = headString(buf, start, end);
  const sl = h.slice(0, eol);
  const minor = versionMinor(sl.slice(0, 8));
  if (sl.charCodeAt(8) !== 32 || (sl.length > 12 && sl.charCodeAt(12) !== 32)) throw new HeadError('malformed status line');
  const code = sl.slice(9, 12);
  if (!/^[1-9]\d\d$/.test(code)) throw new HeadError('invalid status code');
  const headers = parseFields(h, eol + 2);
  const status = Number(code);
  return { status, versionMinor: minor, headers, framing: framing(headers, false), keepAlive: keepAlive(headers, minor) };
}
