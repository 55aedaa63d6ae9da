/**
 * Request mirroring (shadowing): a copy of the request goes to another
 * cluster with "-shadow" appended to the host; its response is read and
 * dropped, and its failures never touch the real request.
 */
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { Abort } from '../upstream/abort.js';
import { hit } from '../filters/fault/fault-plan.js';
import type { HttpStream } from '../filters/stream.js';
import type { Headers } from './header-ops.js';
import type { Mirror } from './route-action.js';

function shadowHost(host: string): string {
  const i = host.lastIndexOf(':');
  return i > 0 && !host.endsWith(']') ? `${host.slice(0, i)}-shadow${host.slice(i)}` : `${host}-shadow`;
}

export function mirror(ex: HttpStream, mirrors: readonly Mirror[], clusters: ClusterManager, headers: Headers, path: string, body: Buffer | undefined): void {
  for (const m of mirrors) {
    if (!hit(m.ppm)) continue;
    const cluster = clusters.get(m.cluster);
    const host = cluster?.pick(ex.conn.originalDst);
    if (!cluster || !host) continue;
    const h: Headers = { ...headers };
    if (m.suffix && typeof h.host === 'string') h.host = shadowHost(h.host);
    // On the host's HTTP/1.1 engine like the real request; the response is read and dropped (discard).
    host.exchange({ path, method: ex.req.method ?? 'GET', headers: h, body }, new Abort())
      .then((r) => r.discard(), () => undefined);
  }
}
