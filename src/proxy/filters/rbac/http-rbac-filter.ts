/**
 * envoy.filters.http.rbac as an HTTP filter: the compiled policy
 * (rbac-filter.ts) decides on the request; a denial is Envoy's local reply,
 * 403 "RBAC: access denied" with rbac_access_denied_matched_policy[...] as
 * the response code details (no response flag: Envoy has none for it).
 * Several RBAC filters of one request share one view of it.
 */
import { decide, type Counters, type RbacFilterPlan } from './rbac-filter.js';
import { httpInput } from './rbac-input.js';
import { CONTINUE, STOP, type FilterStatus, type HttpFilter } from '../filter.js';
import { localReply } from '../local-reply.js';
import type { HttpStream } from '../stream.js';

/** Envoy's RBAC filter's local reply body. */
const RBAC_DENIED = 'RBAC: access denied';

export class HttpRbacFilter implements HttpFilter {
  readonly name: string;
  readonly #plan: RbacFilterPlan;
  readonly #counters: Counters;

  constructor(name: string, plan: RbacFilterPlan, counters: Counters) {
    this.name = name;
    this.#plan = plan;
    this.#counters = counters;
  }

  decodeHeaders(ex: HttpStream): FilterStatus {
    const v = decide(this.#plan, (ex.rbacInput ??= httpInput(ex.req, ex.conn, ex.view, ex.metadata)), this.#counters);
    if (v.allowed) return CONTINUE;
    localReply(ex, 403, undefined, v.detail, RBAC_DENIED);
    return STOP;
  }
}
