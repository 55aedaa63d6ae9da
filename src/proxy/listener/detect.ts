/**
 * Protocol detection on a connection's first bytes (Envoy's tls_inspector and
 * http_inspector): TLS ClientHello (with SNI/ALPN), the HTTP/2 preface (h2c),
 * an HTTP/1.x request line, or opaque TCP. Server-first protocols send
 * nothing: after a short timeout the connection is treated as raw TCP. The
 * bytes read are pushed back (unshift) for whoever takes the socket next.
 */
import type { Socket } from 'node:net';
import { parseClientHello } from './tls-hello.js';

export interface Detected {
  transport: 'tls' | 'raw_buffer';
  /** 'http/1.1', 'h2c', or the TLS ALPN list. */
  applicationProtocols: string[];
  serverName: string;
  http: 'h1' | 'h2' | undefined;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const REQUEST_LINE = /^[A-Z][A-Z-]{0,19} \S+ HTTP\/1\.([01])\r?$/;
const MAX_PEEK = 16 * 1024;
const RAW: Detected = { transport: 'raw_buffer', applicationProtocols: [], serverName: '', http: undefined };

/** Classifies what is buffered so far, or 'more' when more bytes could change the answer. */
export function classify(b: Buffer): Detected | 'more' {
  if (b.length === 0) return 'more';
  if (b[0] === 0x16) {
    const hello = parseClientHello(b);
    if (hello === 'incomplete') return b.length < MAX_PEEK ? 'more' : RAW;
    if (hello === 'invalid') return RAW;
    return { transport: 'tls', applicationProtocols: hello.alpn, serverName: hello.serverName, http: undefined };
  }
  const n = Math.min(b.length, PREFACE.length);
  if (b.subarray(0, n).equals(PREFACE.subarray(0, n))) {
    if (b.length < PREFACE.length) return 'more';
    return { transport: 'raw_buffer', applicationProtocols: ['h2c'], serverName: '', http: 'h2' };
  }
  const eol = b.indexOf(10);
  if (eol < 0) {
    // Still inside the first line: keep reading while it can be a request line.
    return b.length < MAX_PEEK && /^[A-Z][A-Z-]*( \S*)?( H?T?T?P?\/?1?\.?[01]?)?$/.test(b.toString('latin1')) ? 'more' : RAW;
  }
  const m = REQUEST_LINE.exec(b.subarray(0, eol).toString('latin1'));
  // http_inspector's names: "http/1.0" and "http/1.1" (istiod matches HTTP/1.0 only when it is enabled).
  if (m) return { transport: 'raw_buffer', applicationProtocols: [m[1] === '0' ? 'http/1.0' : 'http/1.1'], serverName: '', http: 'h1' };
  return RAW;
}

/**
 * Reads until classify() decides or `timeoutMs` passes (0: no deadline, Envoy's listener_filters_timeout 0s);
 * resolves undefined if the peer closed or ended before its first byte.
 */
export function detect(socket: Socket, timeoutMs: number): Promise<Detected | undefined> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (d: Detected | undefined) => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.pause();
      if (buf.length > 0) socket.unshift(buf);
      resolve(d);
    };
    const onData = (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      const r = classify(buf);
      if (r !== 'more') done(r);
    };
    // A peer that ended before its first byte has nothing to be served (Envoy closes on EOF while peeking too):
    // handed on, its 'end' would already be spent and the codec would hold it open until the idle timeout.
    const onEnd = () => done(buf.length > 0 ? decideNow(buf) : undefined);
    const timer = timeoutMs > 0 ? setTimeout(() => done(decideNow(buf)), timeoutMs) : undefined;
    socket.on('data', onData);
    // A socket an earlier detection left paused (the HTTP codec sniffing after chain selection) flows again.
    if (socket.isPaused()) socket.resume();
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

function decideNow(b: Buffer): Detected {
  const r = classify(b);
  return r === 'more' ? RAW : r;
}
