/**
 * A CONNECT terminated on an HTTP/2 stream (HBONE's inbound, istiod's
 * connect_terminate listener): once the upstream is connected, 200 on the
 * stream, then the stream's DATA and the upstream's bytes spliced both ways
 * with back-pressure; END_STREAM and FIN are passed on as each other
 * (half-close), a reset or an upstream error takes the other side down. The
 * HCM's stream idle timeout is the session guard's (codec/limits.ts). The
 * stream ends — bytes both ways in the access log — when both sides closed.
 */
import type { Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { finishStream, type HttpStream } from '../filters/stream.js';
import { splice } from '../../ztunnel/hbone/splice.js';

export function h2Tunnel(ex: HttpStream, res: Http2ServerResponse, up: Socket): void {
  const stream = res.stream;
  const info = ex.info;
  const prefix = `http.${ex.plan.statPrefix}.downstream_cx_upgrades_`;
  ex.stats.inc(`${prefix}total`);
  ex.stats.inc(`${prefix}active`);
  ex.tunnelled = true;
  ex.upstream = { cancel: () => { up.destroy(); stream.destroy(); } };
  info.responseCode = 200;
  info.responseCodeDetails = 'via_upstream';
  stream.respond({ ':status': 200 });
  stream.on('data', (c: Buffer) => { info.bytesReceived += c.length; });
  up.on('data', (c: Buffer) => { info.bytesSent += c.length; });
  up.on('error', () => undefined);
  void splice(stream, up).then(() => {
    ex.stats.inc(`${prefix}active`, -1);
    finishStream(ex);
  });
}
