/**
 * The connection manager's part of an upgrade (Envoy's HCM, before any
 * filter): a request asking for an upgrade its route does not allow is
 * answered 403 with the details "upgrade_failed", the counter
 * http.<prefix>.downstream_rq_ws_on_non_ws_route, and — on HTTP/1.1 — the
 * connection closed after it (Envoy does so against smuggling: a client that
 * sends upgrade bytes early must not have them parsed as requests). An
 * allowed one is marked on the stream for the router.
 */
import { reply } from '../filters/local-reply.js';
import type { HttpStream } from '../filters/stream.js';
import { requestHasBody } from './downstream.js';
import { requestedUpgrade, upgradeAllowed } from './upgrade-policy.js';

/** False when the request was answered here (refused). Called only for requests with an Upgrade header or CONNECT. */
export function admitUpgrade(ex: HttpStream): boolean {
  const req = ex.req;
  const type = requestedUpgrade(req.method, req.headers);
  // No route: not an upgrade question yet, the router answers 404.
  if (type === undefined || !ex.route) return true;
  const a = ex.route.action;
  if (!upgradeAllowed(type, ex.plan.upgrades, a.kind === 'forward' ? a.upgrades : undefined)) {
    ex.stats.inc(`http.${ex.plan.statPrefix}.downstream_rq_ws_on_non_ws_route`);
    ex.info.responseCodeDetails = 'upgrade_failed';
    if (req.httpVersionMajor === 1) ex.res.setHeader('connection', 'close');
    reply(ex, 403, '');
    return false;
  }
  // An upgrade request with a body is passed on as an ordinary request (its Upgrade dropped): a deviation, see src/proxy/README.md.
  if (type !== 'connect' && requestHasBody(req)) return true;
  ex.upgrade = type;
  return true;
}
