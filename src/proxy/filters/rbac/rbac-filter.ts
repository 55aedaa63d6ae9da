/**
 * The RBAC filters (envoy.filters.http.rbac, envoy.filters.network.rbac) as
 * one self-contained stage: compiled when the listener arrives, then
 * `decide(input)` per request or connection → allowed, or denied with
 * Envoy's response detail. Shadow rules are evaluated and counted first and
 * never change the verdict. Counters carry Envoy's names:
 * `<prefix>rbac.[rules_stat_prefix]allowed|denied` and
 * `…[shadow_rules_stat_prefix]shadow_allowed|shadow_denied`, where the prefix
 * is `http.<HCM stat_prefix>.` for the HTTP filter and the filter's own
 * stat_prefix (Istio: "tcp.") for the network filter.
 * `/logging?rbac=debug` logs every decision as Envoy's rbac logger does.
 */
import type { RBAC as HttpRbac } from '../../../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBAC_EnforcementType, type RBAC as NetworkRbac } from '../../../gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { logger } from '../../../log.js';
import { compileEngine, evaluate, type RbacEngine } from './rbac-engine.js';
import type { RbacInput } from './rbac-input.js';

const log = logger('rbac');

export interface RbacFilterPlan {
  /** Enforced rules; undefined = the filter allows everything (Envoy: "no engine, allowed by default"). */
  engine: RbacEngine | undefined;
  shadow: RbacEngine | undefined;
  stats: { allowed: string; denied: string; shadowAllowed: string; shadowDenied: string };
  /** What was decided at compile time (matchers on state this proxy never has), logged once on first use. */
  notes: string[];
}

export type RbacVerdict = { allowed: true } | { allowed: false; detail: string };

export interface Counters {
  inc(name: string): void;
}

const ALLOW: RbacVerdict = { allowed: true };

/** Envoy's statPrefixJoin. */
function join(prefix: string, token: string): string {
  if (!prefix) return token;
  return prefix.endsWith('.') || !token ? prefix + token : `${prefix}.${token}`;
}

function plan(rules: HttpRbac['rules'], shadow: HttpRbac['rules'], enforced: string, shadowPrefix: string, path: string, errors: string[]): RbacFilterPlan {
  const notes: string[] = [];
  const shadowed = join(enforced, shadowPrefix);
  return {
    engine: rules ? compileEngine(rules, `${path}.rules`, errors, notes) : undefined,
    shadow: shadow ? compileEngine(shadow, `${path}.shadowRules`, errors, notes) : undefined,
    stats: { allowed: `${enforced}allowed`, denied: `${enforced}denied`, shadowAllowed: `${shadowed}shadow_allowed`, shadowDenied: `${shadowed}shadow_denied` },
    notes,
  };
}

/** The HTTP filter; `hcmStatPrefix` is the connection manager's stat_prefix. */
export function compileHttpRbac(c: HttpRbac, hcmStatPrefix: string, path: string, errors: string[]): RbacFilterPlan {
  if (c.matcher || c.shadowMatcher) errors.push(`${path}: matcher/shadow_matcher (xDS matcher trees) are not supported; use rules`);
  return plan(c.rules, c.shadowRules, join(`http.${hcmStatPrefix}.rbac.`, c.rulesStatPrefix), c.shadowRulesStatPrefix, path, errors);
}

/**
 * The network filter. Envoy decides on the first byte from the client (ONE_TIME_ON_FIRST_BYTE);
 * here the decision is made as soon as the connection is dispatched (after any TLS handshake),
 * before the upstream is connected, since nothing it matches depends on the bytes.
 */
export function compileNetworkRbac(c: NetworkRbac, path: string, errors: string[]): RbacFilterPlan {
  if (!c.statPrefix) errors.push(`${path}.statPrefix: missing`);
  if (c.matcher || c.shadowMatcher) errors.push(`${path}: matcher/shadow_matcher (xDS matcher trees) are not supported; use rules`);
  if (c.enforcementType !== RBAC_EnforcementType.ONE_TIME_ON_FIRST_BYTE) errors.push(`${path}.enforcementType: only ONE_TIME_ON_FIRST_BYTE is supported`);
  return plan(c.rules, c.shadowRules, `${c.statPrefix}rbac.`, c.shadowRulesStatPrefix, path, errors);
}

/** Envoy's response detail: whitespace in the policy name becomes '_' so access log fields stay countable. */
export function responseDetail(policy: string): string {
  return `rbac_access_denied_matched_policy[${policy.replace(/[ \t\f\v\n\r]/g, '_')}]`;
}

const noted = new WeakSet<RbacFilterPlan>();

export function decide(f: RbacFilterPlan, i: RbacInput, stats: Counters): RbacVerdict {
  if (f.notes.length > 0 && !noted.has(f)) {
    noted.add(f);
    for (const n of f.notes) log.info('RBAC matcher decided at config time', { note: n });
  }
  const debug = log.enabled('debug');
  if (debug) log.debug(i.http ? 'checking request' : 'checking connection', describe(i));
  if (f.shadow) {
    const r = evaluate(f.shadow, i);
    stats.inc(r.allowed ? f.stats.shadowAllowed : f.stats.shadowDenied);
    if (debug) log.debug(`shadow ${r.allowed ? 'allowed' : 'denied'}, matched policy ${r.policy || 'none'}`);
  }
  if (!f.engine) {
    if (debug) log.debug('no engine, allowed by default');
    return ALLOW;
  }
  const r = enforcedVerdict(f, i);
  if (debug) log.debug(`enforced ${r.allowed ? 'allowed' : 'denied'}, matched policy ${r.policy || 'none'}`);
  stats.inc(r.allowed ? f.stats.allowed : f.stats.denied);
  return r.allowed ? ALLOW : { allowed: false, detail: r.detail };
}

/**
 * The enforced verdict alone, without counters, shadow rules or logging:
 * what `decide` answers, plus the engine's action and the policy that
 * matched (for `trellis explain`).
 */
export function enforcedVerdict(f: RbacFilterPlan, i: RbacInput): RbacVerdict & { action: string; policy: string } {
  if (!f.engine) return { allowed: true, action: 'none', policy: '' };
  const r = evaluate(f.engine, i);
  const base = { action: f.engine.action, policy: r.policy };
  return r.allowed ? { allowed: true, ...base } : { allowed: false, detail: responseDetail(r.policy || 'none'), ...base };
}

/** What Envoy's "checking request/connection" line shows. */
function describe(i: RbacInput): Record<string, unknown> {
  const c = i.conn;
  const t = c.tls;
  return {
    requestedServerName: c.serverName,
    remoteIP: c.remoteIp,
    localAddress: `${c.originalDst.address}:${c.originalDst.port}`,
    ssl: t ? { uriSanPeerCertificate: t.uriSans, dnsSanPeerCertificate: t.dnsSans, subjectPeerCertificate: t.subject } : 'none',
    ...(i.http ? { headers: Object.fromEntries(headerNames(i.headers).map((k) => [k, i.headers[k]])) } : {}),
  };
}

function headerNames(h: Record<string, unknown>): string[] {
  const out: string[] = [];
  // for-in walks the prototype too: the HTTP/1 view keeps the raw headers there.
  for (const k in h) if (h[k] !== undefined) out.push(k);
  return out;
}
