/** Compiles the action part of an Envoy Route: where to send, with which timeout and retries. */
import type { RetryPolicy, Route, RouteAction, VirtualHost } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import { compileRouteUpgrades, type RouteUpgrades } from '../codec/upgrade-policy.js';
import { durationMs } from '../util.js';
import { levelOps, type HeaderOp } from './header-ops.js';
import { compileRe2 } from './string-match.js';

export interface WeightedTarget {
  name: string;
  /** Cumulative upper bound of this cluster's share in [0, total). */
  upTo: number;
  requestOps: HeaderOp[];
  responseOps: HeaderOp[];
}

export type ClusterTarget =
  | { kind: 'single'; name: string }
  | { kind: 'weighted'; total: number; clusters: WeightedTarget[] }
  | { kind: 'header'; header: string };

export interface RetryPlan {
  numRetries: number;
  perTryTimeoutMs: number;
  on5xx: boolean;
  gatewayError: boolean;
  connectFailure: boolean;
  reset: boolean;
  statusCodes: ReadonlySet<number>;
  baseMs: number;
  maxMs: number;
}

export type HashPart =
  | { kind: 'header' | 'cookie' | 'query'; name: string }
  | { kind: 'sourceIp' };

export interface Mirror {
  cluster: string;
  /** Parts per million of requests mirrored. */
  ppm: number;
  /** Envoy appends "-shadow" to the host unless disabled. */
  suffix: boolean;
}

export type ActionPlan =
  | {
      kind: 'forward';
      target: ClusterTarget;
      /** 0 = no route timeout. */
      timeoutMs: number;
      retry: RetryPlan | undefined;
      prefixRewrite: string;
      matchedPrefix: string | undefined;
      /** cluster_not_found_response_code: what a request gets when its cluster does not exist (503, or 404/500). */
      clusterNotFoundStatus: number;
      /** regex_rewrite: every match in the path (query excluded) replaced; \\1 references become $1. */
      regexRewrite: { re: RegExp; substitution: string } | undefined;
      /** Consistent-hash inputs for ring hash / maglev clusters. */
      hashPolicy: HashPart[];
      /** Shadow copies of the request (fire and forget). */
      mirrors: Mirror[];
      hostRewrite: string | undefined;
      /** upgrade_configs: per-type overrides of the HCM's, and CONNECT termination. */
      upgrades: RouteUpgrades | undefined;
    }
  | { kind: 'direct'; status: number; body: string }
  | { kind: 'redirect'; status: number; host: string; path: string; scheme: string; port: number };

/** Envoy's default route timeout when the field is unset. */
const DEFAULT_TIMEOUT_MS = 15_000;

export function compileAction(route: Route, vh: VirtualHost, path: string, errors: string[]): ActionPlan {
  const a = route.action;
  switch (a.case) {
    case 'route': return compileForward(a.value, route, vh, `${path}.route`, errors);
    case 'directResponse': {
      const body = a.value.body?.specifier;
      const text = body?.case === 'inlineString' ? body.value : body?.case === 'inlineBytes' ? Buffer.from(body.value).toString() : '';
      return { kind: 'direct', status: a.value.status, body: text };
    }
    case 'redirect': {
      const r = a.value;
      const codes = [301, 302, 303, 307, 308];
      const p = r.pathRewriteSpecifier;
      return {
        kind: 'redirect',
        status: codes[r.responseCode] ?? 301,
        host: r.hostRedirect,
        path: p.case === 'pathRedirect' ? p.value : '',
        scheme: r.schemeRewriteSpecifier.case === 'schemeRedirect' ? r.schemeRewriteSpecifier.value : '',
        port: r.portRedirect,
      };
    }
    default:
      errors.push(`${path}.action: unsupported or missing (${a.case ?? 'unset'})`);
      return { kind: 'direct', status: 500, body: '' };
  }
}

function compileForward(ra: RouteAction, route: Route, vh: VirtualHost, path: string, errors: string[]): ActionPlan {
  const match = route.match?.pathSpecifier;
  return {
    kind: 'forward',
    target: compileTarget(ra, path, errors),
    timeoutMs: durationMs(ra.timeout) ?? DEFAULT_TIMEOUT_MS,
    retry: compileRetry(ra.retryPolicy ?? vh.retryPolicy, `${path}.retryPolicy`, errors),
    prefixRewrite: ra.prefixRewrite,
    // Envoy rewrites the prefix a path_separated_prefix matched as it does a plain prefix.
    matchedPrefix: match?.case === 'prefix' || match?.case === 'pathSeparatedPrefix' ? match.value : undefined,
    clusterNotFoundStatus: [503, 404, 500][ra.clusterNotFoundResponseCode] ?? 503,
    regexRewrite: compileRegexRewrite(ra, `${path}.regexRewrite`, errors),
    hashPolicy: compileHashPolicy(ra),
    mirrors: ra.requestMirrorPolicies.map((m, i) => {
      if (!m.cluster) errors.push(`${path}.requestMirrorPolicies[${i}].cluster: missing`);
      const d = m.runtimeFraction?.defaultValue;
      // Unset runtime_fraction mirrors every request.
      const ppm = !m.runtimeFraction ? 1_000_000 : !d ? 0 : Math.min(1_000_000, d.numerator * [10_000, 100, 1][d.denominator]!);
      return { cluster: m.cluster, ppm, suffix: !m.disableShadowHostSuffixAppend };
    }),
    hostRewrite: ra.hostRewriteSpecifier.case === 'hostRewriteLiteral' ? ra.hostRewriteSpecifier.value : undefined,
    upgrades: compileRouteUpgrades(ra.upgradeConfigs, path, errors),
  };
}

function compileHashPolicy(ra: RouteAction): HashPart[] {
  const out: HashPart[] = [];
  for (const h of ra.hashPolicy) {
    const p = h.policySpecifier;
    if (p.case === 'header') out.push({ kind: 'header', name: p.value.headerName.toLowerCase() });
    else if (p.case === 'cookie') out.push({ kind: 'cookie', name: p.value.name });
    else if (p.case === 'queryParameter') out.push({ kind: 'query', name: p.value.name });
    else if (p.case === 'connectionProperties' && p.value.sourceIp) out.push({ kind: 'sourceIp' });
  }
  return out;
}

function compileRegexRewrite(ra: RouteAction, path: string, errors: string[]): { re: RegExp; substitution: string } | undefined {
  const rr = ra.regexRewrite;
  if (!rr) return undefined;
  if (!rr.pattern?.regex) {
    errors.push(`${path}.pattern.regex: missing`);
    return undefined;
  }
  const re = compileRe2(rr.pattern.regex, `${path}.pattern.regex`, errors, { anchored: false, flags: 'g' });
  return re && { re, substitution: rr.substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1') };
}

function compileTarget(ra: RouteAction, path: string, errors: string[]): ClusterTarget {
  const s = ra.clusterSpecifier;
  switch (s.case) {
    case 'cluster':
      if (!s.value) errors.push(`${path}.cluster: empty`);
      return { kind: 'single', name: s.value };
    case 'clusterHeader': return { kind: 'header', header: s.value.toLowerCase() };
    case 'weightedClusters': {
      let upTo = 0;
      const clusters: WeightedTarget[] = [];
      s.value.clusters.forEach((c, i) => {
        const p = `${path}.weightedClusters.clusters[${i}]`;
        if (!c.name) errors.push(`${p}.name: missing`);
        const w = c.weight ?? 0;
        if (w === 0) return;
        upTo += w;
        clusters.push({
          name: c.name,
          upTo,
          requestOps: levelOps(c.requestHeadersToAdd, c.requestHeadersToRemove, `${p}.request`, errors),
          responseOps: levelOps(c.responseHeadersToAdd, c.responseHeadersToRemove, `${p}.response`, errors),
        });
      });
      if (upTo === 0) errors.push(`${path}.weightedClusters: total weight is 0`);
      return { kind: 'weighted', total: upTo, clusters };
    }
    default:
      errors.push(`${path}.clusterSpecifier: unsupported or missing (${s.case ?? 'unset'})`);
      return { kind: 'single', name: '' };
  }
}

const KNOWN_RETRY_ON = new Set(['5xx', 'gateway-error', 'connect-failure', 'reset', 'retriable-status-codes', 'refused-stream', 'retriable-4xx', 'cancelled', 'deadline-exceeded', 'resource-exhausted', 'unavailable', 'internal', 'reset-before-request', 'envoy-ratelimited', 'retriable-headers', 'http3-post-connect-failure']);

export function compileRetry(p: RetryPolicy | undefined, path: string, errors: string[]): RetryPlan | undefined {
  if (!p) return undefined;
  const on = new Set(p.retryOn.split(',').map((s) => s.trim()).filter(Boolean));
  for (const c of on) if (!KNOWN_RETRY_ON.has(c)) errors.push(`${path}.retryOn: unknown condition ${JSON.stringify(c)}`);
  const baseMs = durationMs(p.retryBackOff?.baseInterval) ?? 25;
  return {
    numRetries: p.numRetries ?? 1,
    perTryTimeoutMs: durationMs(p.perTryTimeout) ?? 0,
    on5xx: on.has('5xx'),
    gatewayError: on.has('gateway-error') || on.has('5xx'),
    connectFailure: on.has('connect-failure') || on.has('5xx') || on.has('gateway-error'),
    reset: on.has('reset') || on.has('5xx'),
    statusCodes: new Set(on.has('retriable-status-codes') ? p.retriableStatusCodes : []),
    baseMs,
    maxMs: durationMs(p.retryBackOff?.maxInterval) ?? baseMs * 10,
  };
}
