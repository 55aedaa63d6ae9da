/**
 * `trellis why REQUEST_ID`: the access-log lines of one request (x-request-id)
 * — the client's sidecar and the server's — each joined with the
 * configuration of the proxy that wrote it (its /config_dump and /clusters)
 * and explained (explain-flag.ts) with the command to run next. Text by
 * default, `-o json` for scripts.
 */
import { errorMessage, TrellisError } from '../../errors.js';
import { flagLongName } from '../../proxy/telemetry/stream-info.js';
import { jsonText, type Write } from '../output.js';
import { parseConfigDump } from '../proxy-config/dump.js';
import type { ClustersJson } from '../proxy-config/endpoints-table.js';
import { loadClusters, loadConfigDump, type ProxyTarget } from '../proxy-config/target.js';
import { lineParser, type AccessLogEntry } from './access-log-line.js';
import { clusterFacts, rdsName, requestRouting } from './config-facts.js';
import { explain, type Explanation, type ProxyFacts } from './explain-flag.js';
import { linesInFile, linesInMesh, type FoundLine } from './find-lines.js';

export interface WhyOptions {
  requestId: string;
  /** An access log to read instead of the running mesh's sidecars ("-": stdin). */
  log?: string;
  /** The text format of that log (default: Istio's). */
  format?: string;
  /** The proxy that wrote --log, to read its configuration from. */
  target?: ProxyTarget;
  output: 'text' | 'json';
}

export type Side = 'client' | 'server' | 'unknown';

export interface WhyLine extends Explanation {
  side: Side;
  pod?: string;
  source: string;
  line: string;
  entry: AccessLogEntry;
  /** Why the proxy's configuration could not be read, when it could not. */
  configError?: string;
  facts: ProxyFacts;
}

/** Outbound clusters are the client's sidecar, inbound the server's; without a cluster, the listener's address says. */
export function sideOf(e: AccessLogEntry, podIp: string | undefined): Side {
  if (e.upstreamCluster?.startsWith('outbound|')) return 'client';
  if (e.upstreamCluster?.startsWith('inbound|')) return 'server';
  const local = e.downstreamLocal?.replace(/:\d+$/, '');
  if (podIp === undefined || local === undefined) return 'unknown';
  return local === podIp ? 'server' : 'client';
}

/** A proxy's /config_dump and /clusters as JSON: fetched once per proxy, decoded per line for what it needs. */
interface ProxyConfig {
  dump: unknown;
  clusters: ClustersJson | undefined;
}

/** Flags explained from the cluster the request went to, and from the route it took. */
const CLUSTER_FLAGS = new Set(['UH', 'UO', 'UF', 'UR', 'URX', 'NC']);
const ROUTE_FLAGS = new Set(['NR', 'FI', 'UT', 'URX']);

/** What of its proxy's config a line's explanation reads: the cluster the request went to, the route it took. */
function needs(e: AccessLogEntry): { cluster: boolean; route: boolean } {
  return { cluster: e.upstreamCluster !== undefined && e.flags.some((x) => CLUSTER_FLAGS.has(x)), route: e.flags.some((x) => ROUTE_FLAGS.has(x)) };
}

/**
 * The config a line's explanation uses, decoded alone: a sidecar's dump holds every cluster and route
 * of the mesh, and decoding all of it for each line would cost more than everything else `why` does.
 * Listeners on the request's port first, then the route configurations they name and the cluster.
 */
function factsFrom(cfg: ProxyConfig | undefined, e: AccessLogEntry, pod: string | undefined): ProxyFacts {
  const f: ProxyFacts = pod ? { pod } : {};
  const { cluster: needsCluster, route: needsRoute } = needs(e);
  if (!cfg || (!needsCluster && !needsRoute)) return f;
  const port = e.downstreamLocal?.slice(e.downstreamLocal.lastIndexOf(':') + 1);
  const listeners = needsRoute && port ? parseConfigDump(cfg.dump, (k, n) => k === 'listener' && n.endsWith(`_${port}`)).listeners : [];
  const rds = new Set([port, ...listeners.map(rdsName)]);
  const dump = { ...parseConfigDump(cfg.dump, (k, n) => (k === 'cluster' && needsCluster && n === e.upstreamCluster) || (k === 'route' && needsRoute && rds.has(n))), listeners };
  const cluster = needsCluster ? clusterFacts(dump, cfg.clusters, e.upstreamCluster!) : undefined;
  const { route, routeConfig } = needsRoute ? requestRouting(dump, { local: e.downstreamLocal, authority: e.authority, path: e.path, routeName: e.routeName }) : {};
  return { ...f, ...(cluster ? { cluster } : {}), ...(route ? { route } : {}), ...(routeConfig ? { routeConfig } : {}) };
}

async function readConfig(t: ProxyTarget, lines: readonly FoundLine[]): Promise<ProxyConfig> {
  const needsClusters = lines.some((l) => needs(l.entry).cluster);
  const [dump, clusters] = await Promise.all([loadConfigDump(t), needsClusters ? loadClusters(t) : undefined]);
  return { dump, clusters: clusters as ClustersJson | undefined };
}

/** The lines of the request, explained; REQUEST_NOT_FOUND when no line carries the id. */
export async function why(o: WhyOptions): Promise<WhyLine[]> {
  if (!/^[\x21-\x7e]{1,256}$/.test(o.requestId)) throw new TrellisError('CLI_USAGE', `not a request id: ${JSON.stringify(o.requestId)}`);
  const parse = lineParser(o.format);
  const found = o.log !== undefined ? await linesInFile(o.log, o.requestId, parse) : await linesInMesh(o.requestId, parse);
  if (found.length === 0) {
    const where = o.log !== undefined ? (o.log === '-' ? 'stdin' : o.log) : "the running mesh's sidecar logs";
    throw new TrellisError('REQUEST_NOT_FOUND', `no access-log line with x-request-id ${o.requestId} in ${where} (the id is the x-request-id header the first sidecar set or kept)`);
  }
  const configs = new Map<string, Promise<ProxyConfig>>();
  const out: WhyLine[] = [];
  for (const l of found) {
    const target = targetOf(l, o.target);
    let cfg: ProxyConfig | undefined;
    let configError: string | undefined;
    // Lines explained by themselves (DC, DPE, RBAC, an upstream's own answer) cost no request to the proxy.
    const n = needs(l.entry);
    if (target && (n.cluster || n.route)) {
      if (!configs.has(target.label)) configs.set(target.label, readConfig(target, found.filter((x) => targetOf(x, o.target)?.label === target.label)));
      try {
        cfg = await configs.get(target.label);
      } catch (err) {
        configError = errorMessage(err);
      }
    }
    const pod = target?.label;
    const facts = factsFrom(cfg, l.entry, pod);
    out.push({ side: sideOf(l.entry, l.pod?.ip), ...(pod ? { pod } : {}), source: l.source, line: l.line, entry: l.entry, ...explain(l.entry, facts), facts, ...(configError ? { configError } : {}) });
  }
  const rank: Record<Side, number> = { client: 0, server: 1, unknown: 2 };
  return joinSides(out.sort((a, b) => rank[a.side] - rank[b.side]));
}

/**
 * A server side that saw its client go (DC) while the client's sidecar failed the request (UT, ...):
 * the client's sidecar hung up, and its line says why.
 */
function joinSides(lines: WhyLine[]): WhyLine[] {
  const cause = lines.find((l) => l.side === 'client' && l.flag !== '-' && l.flag !== 'DC');
  if (!cause) return lines;
  return lines.map((l) => (l.side === 'server' && l.flag === 'DC'
    ? { ...l, sentence: `${l.sentence} That client was ${cause.pod ?? 'the client'}'s sidecar, which gave up first: ${cause.flag} (${cause.flagLong}) on the client side.` }
    : l));
}

function targetOf(l: FoundLine, given: ProxyTarget | undefined): ProxyTarget | undefined {
  if (!l.pod) return given;
  const p = l.pod;
  return p.admin ? { label: `${p.name}.${p.namespace}`, admin: p.admin, ...(p.netns ? { netns: p.netns } : {}) } : undefined;
}

export function whyText(requestId: string, lines: readonly WhyLine[]): string {
  const e = lines[0]!.entry;
  let s = `request ${requestId}: ${e.method ?? '-'} ${e.path ?? '-'} (authority ${e.authority ?? '-'})\n`;
  for (const l of lines) {
    const where = l.pod ? `${l.side} side, ${l.pod}` : `${l.side} side, ${l.source}`;
    const flags = l.entry.flags.length ? `${l.entry.flags.join(',')} (${l.entry.flags.map(flagLongName).join(',')})` : '-';
    s += `\n${where}: ${l.entry.responseCode} ${flags} ${l.entry.details ?? '-'}\n`;
    s += `  ${l.sentence}\n`;
    if (l.configError) s += `  (its proxy's configuration could not be read: ${l.configError})\n`;
    if (l.next) s += `  next: ${l.next}\n`;
    s += `  line: ${l.line}\n`;
  }
  return s;
}

export async function runWhy(o: WhyOptions, write: Write): Promise<number> {
  const lines = await why(o);
  write(o.output === 'json' ? jsonText({ requestId: o.requestId, lines }) : whyText(o.requestId, lines));
  return 0;
}
