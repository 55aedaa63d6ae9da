/**
 * What the dashboard's /api/model answers and its page draws: one JSON
 * document per poll. The server builds it (pure, from scrapes and the
 * control plane's syncz); the page only lays it out. Shared by both sides:
 * types only, nothing here runs.
 */

export interface GraphNode {
  /** "workload:NS/NAME" or "service:HOST" (service-stats.ts's workloadNode / serviceNode). */
  id: string;
  kind: 'workload' | 'service';
  namespace: string;
  name: string;
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  rps: number;
  errorPct: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Share of the window's requests over mTLS (server side); null where the reporter cannot know. */
  mtlsPct: number | null;
  /** Client SPIFFE ids seen in the window (server side). */
  principals: string[];
  /** Response flags seen in the window ("FI", "UH"...) with their request counts. */
  flags: Record<string, number>;
  /** The explain command for a typical request of this edge (a workload → service edge), or null. */
  explain: { from: string; url: string; command: string } | null;
}

export type ProxySyncWord = 'SYNCED' | 'STALE' | 'NACK';

export interface ProxyRow {
  /** "pod.namespace", as proxy-status names it. */
  proxy: string;
  state: ProxySyncWord;
  /** The version each type runs (acked), "CDS abc123 · LDS …". */
  version: string;
  /** The NACK's own words when state is NACK. */
  error: string | null;
}

/** One push the control plane made, and how far it got. */
export interface ConfigChange {
  /** ISO time of its first response. */
  at: string;
  /** The types it sent ("CDS", "RDS"...). */
  types: string[];
  /** Proxies whose acknowledged version reached this push (or that it did not change), of all connected. */
  reached: number;
  total: number;
  nacked: number;
}

export interface CertRow {
  pod: string;
  spiffeId: string;
  notAfter: string;
  /** When the agent starts renewing (its fraction of the lifetime; see certs.ts); null without valid_from. */
  rotationDue: string | null;
}

export interface DashboardModel {
  generatedAt: string;
  windowSeconds: number;
  /** Where the data comes from ("state file …", "control plane …"). */
  source: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  proxies: ProxyRow[];
  changes: ConfigChange[];
  certs: CertRow[];
  /** Why a part is missing (the control plane did not answer, a proxy's admin API failed). */
  problems: string[];
  /** Each panel's CLI command that prints the same. */
  commands: { topology: string; proxies: string; changes: string; certs: string };
}
