/**
 * What a VirtualService's routes mean for one service's pod, in istioctl
 * describe's words: "Route to host "reviews" subset "v1" with weight 90%",
 * the match that leads there ("Match: /api* when headers are end-user=jason"),
 * and notes on routes to subsets that do not select the pod or that no
 * DestinationRule defines.
 */
import type { DestinationRule, HTTPFaultInjection, HTTPMatchRequest, HTTPRoute, StringMatch, TCPRoute, VirtualService } from '../../config/objects.js';
import { resolveHost } from '../../controlplane/translate/routes/hosts.js';

export interface SubsetsForPod {
  matching: readonly string[];
  nonMatching: readonly string[];
}

function renderStringMatch(m: StringMatch | undefined): string {
  if (m === undefined) return '';
  if (m.exact !== undefined) return m.exact;
  if (m.prefix !== undefined) return `${m.prefix}*`;
  return m.regex !== undefined ? `regex ${m.regex}` : '';
}

export function renderMatch(m: HTTPMatchRequest): string {
  const parts: string[] = [];
  if (m.uri !== undefined) parts.push(renderStringMatch(m.uri) + (m.ignoreUriCase ? ' uncased' : ''));
  const headers = Object.entries(m.headers ?? {});
  if (headers.length > 0) parts.push(`when headers are ${headers.map(([k, v]) => `${k}=${renderStringMatch(v)}`).join('; ')}`);
  return ['Match:', ...parts].join(' ');
}

function renderMatches(matches: readonly HTTPMatchRequest[] | undefined): string {
  return matches === undefined || matches.length === 0 ? 'everything' : matches.map(renderMatch).join(', ');
}

function renderFault(f: HTTPFaultInjection): string {
  const parts: string[] = [];
  const pct = (p: { value?: number } | undefined) => (p?.value === undefined ? '' : ` (${p.value}%)`);
  if (f.delay) parts.push(`delay ${f.delay.fixedDelay ?? '?'}${pct(f.delay.percentage)}`);
  if (f.abort) parts.push(`abort ${f.abort.httpStatus ?? f.abort.grpcStatus ?? '?'}${pct(f.abort.percentage)}`);
  return `Fault injection: ${parts.join(', ')}`;
}

/** One HTTP route: does it reach the service (and a subset selecting the pod), and what to say about it. */
export function httpRouteFacts(vs: VirtualService, route: HTTPRoute, serviceHost: string, domainSuffix: string, subsets: SubsetsForPod, dr: DestinationRule | undefined): { reaches: boolean; facts: string[] } {
  const ns = vs.metadata.namespace ?? 'default';
  const facts: string[] = [];
  const notes: string[] = [];
  let reaches = false;
  for (const d of route.route ?? []) {
    const { host, subset } = d.destination;
    if (resolveHost(host, ns, domainSuffix) !== serviceHost) {
      facts.push(subset ? `Route to ${host} with invalid config` : `Route to host "${host}" with weight ${d.weight ?? 0}%`);
      continue;
    }
    if (subset) {
      if (subsets.nonMatching.includes(subset)) {
        notes.push(`Route to non-matching subset ${subset} for (${renderMatches(route.match)})`);
        continue;
      }
      if (!subsets.matching.includes(subset)) {
        notes.push(dr ? `Warning: Route to UNKNOWN subset ${subset}; check DestinationRule ${dr.metadata.name}` : `Warning: Route to subset ${subset} but NO DESTINATION RULE defining subsets!`);
        continue;
      }
    }
    reaches = true;
    // A lone destination without a weight takes all of the traffic (istioctl says nothing then).
    const weight = d.weight ?? ((route.route ?? []).length === 1 ? 100 : 0);
    if (weight > 0) facts.push(`Route to host "${host}"${subset ? ` subset "${subset}"` : ''} with weight ${weight}%`);
  }
  if (!reaches) return { reaches, facts: [...facts, ...notes] };
  const conditions = [...(route.fault ? [renderFault(route.fault)] : []), ...(route.match ?? []).map(renderMatch)];
  if (conditions.length > 0) facts.push(conditions.join(', '));
  return { reaches, facts };
}

/** One TCP route: does it reach the service, and its matches (ports, subnets) when it does. */
export function tcpRouteFacts(vs: VirtualService, route: TCPRoute, serviceHost: string, domainSuffix: string): { reaches: boolean; facts: string[] } {
  const ns = vs.metadata.namespace ?? 'default';
  const reaches = (route.route ?? []).some((d) => resolveHost(d.destination.host, ns, domainSuffix) === serviceHost);
  const facts = reaches ? (route.match ?? []).map((m) => `Match: ${[m.port ? `port ${m.port}` : '', ...(m.destinationSubnets ?? [])].filter(Boolean).join(' ')}`) : [];
  return { reaches, facts };
}
