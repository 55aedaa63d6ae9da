/**
 * What `trellis explain` takes and gives: a request, the live config of the
 * proxies it passes, and the steps it would take with the expected answer.
 * Plain data, so the dashboard and the CLI render the same Explanation.
 */
import type { ProxyDump } from '../proxy-config/dump.js';
import type { ClustersJson } from '../proxy-config/endpoints-table.js';

export interface RequestSpec {
  method: string;
  /** http://HOST[:PORT]/PATH?QUERY, as the app would call it. */
  url: string;
  /** Extra request headers, lower-case names. */
  headers: Record<string, string>;
  /** Makes the weighted pick reproducible: the x-request-id is derived from it. */
  seed?: number;
}

/** One proxy's live config: its /config_dump?include_eds and /clusters?format=json. */
export interface ProxySnapshot {
  /** How messages name it: "tester-6d9f-x2x4z.shop" or the admin address. */
  label: string;
  /** The pod's address (the source of outbound connections, the owner of inbound ones). */
  podIp: string | undefined;
  dump: ProxyDump;
  clusters: ClustersJson;
}

export type StepKind =
  | 'capture' | 'listener' | 'filter-chain' | 'virtual-host' | 'route' | 'filter' | 'cluster'
  | 'endpoint' | 'policy' | 'client-tls' | 'server-tls' | 'authorization' | 'result';

export interface Step {
  kind: StepKind;
  /** Which proxy: the source sidecar (outbound) or the destination's (inbound). */
  side: 'outbound' | 'inbound';
  /** One sentence: what happens here. */
  summary: string;
  /** Why: the conditions that decided it, earlier candidates that failed. */
  why: string[];
  /** The Istio object (and field) this config came from, when the resource names one. */
  source?: string;
}

/** One access-log line's worth of prediction. */
export interface Outcome {
  status: number;
  /** Envoy's %RESPONSE_FLAGS%: "-" or comma-separated. */
  responseFlags: string;
  responseCodeDetails: string;
  /** %UPSTREAM_CLUSTER%: "-" when the router never chose one. */
  upstreamCluster: string;
  /** The status is whatever the app answers (the request reaches it). */
  fromApp?: boolean;
}

export interface Explanation {
  request: { method: string; url: string; authority: string; path: string; requestId: string; seed?: number };
  from: string;
  to?: string;
  /** Names exactly as the config dumps spell them. */
  listener?: string;
  filterChain?: string;
  routeConfiguration?: string;
  virtualHost?: string;
  route?: string;
  cluster?: string;
  endpoint?: string;
  inboundListener?: string;
  inboundFilterChain?: string;
  steps: Step[];
  /** The source sidecar's access-log line, and the destination's when the request reaches it. */
  expected: { client: Outcome; server?: Outcome };
  /** What could not be decided from config alone (random draws without --seed, a destination not found). */
  notes: string[];
}
