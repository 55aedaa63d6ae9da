/**
 * Why one side of a request failed, in one sentence, and the command to run
 * next: from its access-log entry (response flags, response code details)
 * and the facts its proxy's configuration gives (config-facts.ts). Pure.
 * The flag that explains a line is the most specific one present (URX says
 * retries ran out; UF, UT, ... say of what), in RULES' order.
 */
import { flagLongName } from '../../proxy/telemetry/stream-info.js';
import type { AccessLogEntry } from './access-log-line.js';
import { configObjectName, type ClusterFacts, type RouteConfigFacts, type RouteFacts } from './config-facts.js';

/** What the proxy that wrote the line knows; each part only when it could be read. */
export interface ProxyFacts {
  /** istioctl's name of the pod ("name.namespace"), for the commands to run next. */
  pod?: string;
  cluster?: ClusterFacts;
  route?: RouteFacts;
  routeConfig?: RouteConfigFacts;
}

export interface Explanation {
  /** The flag explained ("-" for a line without one, e.g. an RBAC denial). */
  flag: string;
  flagLong: string;
  sentence: string;
  /** The next command to run, or undefined when the line says all there is. */
  next?: string;
}

type Rule = (e: AccessLogEntry, f: ProxyFacts) => Omit<Explanation, 'flag' | 'flagLong'>;

const pod = (f: ProxyFacts) => f.pod ?? 'POD';
const q = (s: string) => `'${s}'`;
const vsOf = (r: RouteFacts | undefined) => configObjectName(r?.config);
const ms = (n: number | undefined) => (n === undefined ? 'unset' : n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`);

/**
 * The Services (or ServiceEntry hosts) a cluster was built for: its `istio.services` metadata (inbound
 * clusters), else its name's host — NAME.NS.svc.DOMAIN is a Kubernetes Service, another host a ServiceEntry's.
 */
function servicesOf(c: ClusterFacts | undefined, name: string | undefined): string {
  const listed = (c?.services ?? []).map((x) => (x.name && x.namespace ? `Service ${x.namespace}/${x.name}` : `ServiceEntry host ${x.host}`));
  const host = name?.startsWith('outbound|') ? name.split('|')[3] : undefined;
  const k8s = host ? /^([^.]+)\.([^.]+)\.svc\./.exec(host) : null;
  const fromName = host ? [k8s ? `Service ${k8s[2]}/${k8s[1]}` : `ServiceEntry host ${host}`] : [];
  const all = listed.length > 0 ? listed : fromName;
  return all.length > 0 ? ` (built for ${all.join(', ')})` : '';
}

const endpointsCmd = (e: AccessLogEntry, f: ProxyFacts) => `trellis proxy-config endpoints ${pod(f)} --cluster ${q(e.upstreamCluster ?? f.cluster?.name ?? 'CLUSTER')}`;
const routesCmd = (f: ProxyFacts, name: string | undefined) => `trellis proxy-config routes ${pod(f)}${name ? ` --name ${name}` : ''} -o json`;

const uh: Rule = (e, f) => {
  const c = f.cluster;
  const name = e.upstreamCluster ?? c?.name ?? 'its cluster';
  const counts = c ? `has ${c.healthy} healthy endpoint${c.healthy === 1 ? '' : 's'} of ${c.endpoints.length}` : 'had no healthy endpoint';
  const why = c && c.endpoints.length === 0 ? ': no ready pod matches its selector, or its port has no endpoint' : '';
  return { sentence: `No healthy upstream: the cluster ${name}${servicesOf(c, e.upstreamCluster)} ${counts}${why}.`, next: endpointsCmd(e, f) };
};

const uf: Rule = (e, f) => {
  const refused = /delayed_connect_error:_111\b/.test(e.details ?? '');
  const how = refused ? 'the connection was refused (nothing listens on that port)' : `the connection failed (${e.details ?? 'no details'})`;
  return { sentence: `Upstream connection failure: connecting to ${e.upstreamHost ?? 'the endpoint'} of ${e.upstreamCluster ?? 'its cluster'}, ${how}.`, next: endpointsCmd(e, f) };
};

const uo: Rule = (e, f) => {
  const c = f.cluster;
  // Istio writes 2^32-1 for a limit the DestinationRule leaves unset: not a limit worth naming.
  const set = (n: number | undefined) => n !== undefined && n < 0xffffffff;
  const limits = [set(c?.maxConnections) ? `maxConnections ${c!.maxConnections}` : '', set(c?.maxPendingRequests) ? `http1MaxPendingRequests ${c!.maxPendingRequests}` : '', set(c?.maxRequests) ? `http2MaxRequests ${c!.maxRequests}` : ''].filter(Boolean).join(', ');
  const dr = configObjectName(c?.config);
  const src = dr ? `${dr}'s trafficPolicy.connectionPool` : 'the circuit breaker';
  return {
    sentence: `Upstream overflow: the circuit breaker of ${e.upstreamCluster ?? 'its cluster'} was full${limits ? ` (${limits})` : ''}, set by ${src}; the request was refused without being sent.`,
    next: `trellis proxy-config clusters ${pod(f)} --fqdn ${q(clusterFqdn(e.upstreamCluster))} -o json`,
  };
};

const nr: Rule = (e, f) => {
  const rc = f.routeConfig;
  const vh = rc?.matched;
  const sentence = vh
    ? `No route: in route configuration ${rc.name} the authority ${e.authority ?? '(none)'} selects virtual host ${vh.name}, and none of its routes (${vh.routes.map((r) => r.match).join('; ') || 'none'}) matches ${e.method ?? ''} ${e.path ?? ''}.`
    : `No route: no virtual host of route configuration ${rc?.name ?? '(unknown)'} matches the authority ${e.authority ?? '(none)'}${rc ? `; its virtual hosts are ${rc.virtualHosts.map((v) => `${v.name} [${v.domains.join(', ')}]`).join('; ') || 'none'}` : ''}.`;
  return { sentence: sentence.replace('  ', ' '), next: routesCmd(f, rc?.name) };
};

const fi: Rule = (e, f) => {
  const r = f.route;
  const vs = vsOf(r);
  const abort = r?.fault?.abortStatus !== undefined ? ` abort ${r.fault.abortStatus} for ${r.fault.abortPercent}% of requests` : '';
  return { sentence: `Fault injected: ${vs ? `${vs}'s fault` : 'a fault'}${abort} (route ${e.routeName ?? (r?.name || '-')}) answered ${e.responseCode} before any upstream was called.`, next: routesCmd(f, undefined) };
};

const ut: Rule = (e, f) => {
  const r = f.route;
  const vs = vsOf(r);
  const perTry = e.details === 'upstream_per_try_timeout';
  const which = perTry ? `the per-try timeout ${ms(r?.retry?.perTryTimeoutMs)}` : `the route timeout ${ms(r?.timeoutMs)}`;
  return { sentence: `Upstream request timeout: ${e.upstreamCluster ?? 'the upstream'} did not answer within ${which}${vs ? ` set by ${vs}` : ''} (route ${e.routeName ?? '-'}).`, next: routesCmd(f, undefined) };
};

const urx: Rule = (e, f) => {
  const r = f.route;
  const rp = r?.retry;
  const policy = rp ? `${rp.numRetries} retr${rp.numRetries === 1 ? 'y' : 'ies'} on ${rp.retryOn}${rp.perTryTimeoutMs !== undefined ? `, per try ${ms(rp.perTryTimeoutMs)}` : ''}` : 'its retry policy';
  const vs = vsOf(r);
  return { sentence: `Retries exhausted: every attempt to ${e.upstreamCluster ?? 'the upstream'} failed (last answer ${e.responseCode}, ${e.details ?? '-'}) under ${policy}${vs ? ` from ${vs}` : ''}.`, next: endpointsCmd(e, f) };
};

const dc: Rule = (e, f) => ({
  sentence: `Downstream connection termination: the client (${e.downstreamRemote ?? 'unknown'}) closed its connection after ${e.durationMs ?? '?'}ms, before the response${e.responseCode ? ' was complete' : ' was sent'}.`,
  next: `trellis logs ${f.pod ?? 'POD'} -c proxy`,
});

const dpe: Rule = (e, f) => ({
  sentence: `Downstream protocol error: the client (${e.downstreamRemote ?? 'unknown'}) sent a malformed HTTP request (${e.details ?? 'codec error'}); the proxy answered ${e.responseCode || 400} and closed the connection.`,
  next: `trellis logs ${f.pod ?? 'POD'} -c proxy`,
});

const ur: Rule = (e, f) => ({ sentence: `Upstream remote reset: ${e.upstreamHost ?? 'the endpoint'} of ${e.upstreamCluster ?? 'its cluster'} closed or reset the connection before the response (${e.details ?? '-'}).`, next: endpointsCmd(e, f) });
const nc: Rule = (e, f) => ({ sentence: `No cluster: the route named cluster ${e.upstreamCluster ?? '(unknown)'}, which the proxy does not have.`, next: `trellis proxy-config clusters ${pod(f)}` });

/** Most specific first: the flag whose rule explains the line. */
const RULES: readonly (readonly [string, Rule])[] = [
  ['FI', fi], ['NR', nr], ['NC', nc], ['UH', uh], ['UO', uo], ['UF', uf], ['UT', ut], ['UR', ur], ['DPE', dpe], ['URX', urx], ['DC', dc],
];

/** "backend.shop.svc.cluster.local" from outbound|8080|v1|backend.shop.svc.cluster.local. */
function clusterFqdn(cluster: string | undefined): string {
  return cluster?.split('|')[3] ?? cluster ?? '';
}

function rbac(e: AccessLogEntry, f: ProxyFacts): Omit<Explanation, 'flag' | 'flagLong'> | undefined {
  const m = /^rbac_access_denied_matched_policy\[(.*)\]$/.exec(e.details ?? e.terminationDetails ?? '');
  if (!m) return undefined;
  const p = /^ns\[([^\]]+)\]-policy\[([^\]]+)\]-rule\[(\d+)\]$/.exec(m[1]!);
  const sentence = p
    ? `RBAC denied: AuthorizationPolicy ${p[1]}/${p[2]} (DENY, rule ${p[3]}) matched the request on ${f.pod ?? 'the server'}'s inbound side.`
    : `RBAC denied: ALLOW policies apply to ${f.pod ?? 'the workload'} and none of their rules matched the request.`;
  return { sentence, next: `trellis describe pod ${pod(f)}` };
}

export function explain(e: AccessLogEntry, f: ProxyFacts): Explanation {
  for (const [flag, rule] of RULES) {
    if (!e.flags.includes(flag)) continue;
    const r = rule(e, f);
    // URX with UF (or UT, ...) says the last attempt met that failure and no retry was left.
    const retried = flag !== 'URX' && e.flags.includes('URX') ? ' Retries were exhausted too (URX): each attempt met the same.' : '';
    return { flag, flagLong: flagLongName(flag), ...r, sentence: r.sentence + retried };
  }
  const denied = rbac(e, f);
  if (denied) return { flag: '-', flagLong: '-', ...denied };
  const flag = e.flags[0] ?? '-';
  const flagLong = flag === '-' ? '-' : flagLongName(flag);
  if (e.responseCode > 0 && e.responseCode < 400 && flag === '-') return { flag, flagLong, sentence: `Nothing failed here: ${e.responseCode} ${e.details ?? ''}.`.replace(' .', '.') };
  if (e.details === 'via_upstream') {
    return {
      flag, flagLong,
      sentence: `The upstream ${e.upstreamHost ?? ''} (${e.upstreamCluster ?? '-'}) answered ${e.responseCode} itself; this proxy passed it on${e.upstreamCluster?.startsWith('outbound|') ? ' (the server\'s sidecar, if it has one, logged why)' : ''}.`.replace('  ', ' '),
      // An answer from another sidecar is explained by that sidecar's own line; an app's by its logs.
      ...(e.upstreamCluster?.startsWith('inbound|') ? { next: `trellis logs ${f.pod ?? 'POD'}` } : {}),
    };
  }
  return { flag, flagLong, sentence: `${e.responseCode} with flags ${e.flags.join(',') || '-'} and details ${e.details ?? '-'}: Trellis has no explanation for this one.`, next: `trellis logs ${f.pod ?? 'POD'} -c proxy` };
}
