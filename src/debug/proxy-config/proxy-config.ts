/**
 * `trellis proxy-config TYPE POD`: what one proxy runs, read from its admin
 * API (/config_dump; /clusters for endpoints; /logging for log levels), as
 * istioctl proxy-config prints it: short tables, or Envoy's JSON (YAML) of
 * the selected resources. Resolves with the exit code.
 */
import { TrellisError } from '../../errors.js';
import { BootstrapSchema, type Bootstrap } from '../../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ClusterSchema } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../gen/envoy/config/route/v3/route_pb.js';
import { formatTable, type Row } from '../format/table.js';
import { request, requestOk } from '../http.js';
import { structured, type Write } from '../output.js';
import { CLUSTERS_HEADER, clusterMatches, clusterRows, sortClusters, type ClusterFilter } from './clusters-table.js';
import { messageJson, parseConfigDump, type ProxyDump } from './dump.js';
import { endpointMatches, endpointRows, endpointsOf, ENDPOINTS_HEADER, type ClustersJson, type EndpointFilter } from './endpoints-table.js';
import { LISTENERS_HEADER, listenerMatches, listenerRows, sortListeners, type ListenerFilter } from './listeners-table.js';
import { activeLoggerNames, loggingQueries } from './log-levels.js';
import { ROUTES_HEADER, routeRows, sortRoutes } from './routes-table.js';
import { secretTable } from './secrets-table.js';
import { adminRequest, loadClusters, loadConfigDump, type ProxyTarget } from './target.js';

export const CONFIG_TYPES = ['listeners', 'routes', 'clusters', 'endpoints', 'secret', 'log', 'bootstrap', 'all'] as const;
export type ConfigType = (typeof CONFIG_TYPES)[number];

export interface ProxyConfigOptions {
  type: ConfigType;
  target: ProxyTarget;
  output: 'short' | 'json' | 'yaml';
  clusters: ClusterFilter;
  listeners: ListenerFilter;
  endpoints: EndpointFilter;
  routeName?: string;
  /** log: the --level spec, or reset to `resetLevel`. */
  level?: string;
  reset?: boolean;
  /** Problems decoding the dump go here (stderr), not into the output. */
  warn: Write;
  now?: number;
}

/** What `--reset` sets: Trellis' default level (istioctl resets Envoy to its injector's default, warning). */
export const RESET_LEVEL = 'info';

export async function proxyConfig(o: ProxyConfigOptions, write: Write): Promise<number> {
  if (o.type === 'log') return logLevels(o, write);
  if (o.type === 'endpoints') {
    const clusters = (await loadClusters(o.target)) as ClustersJson;
    write(o.output === 'short' ? endpointsTable(clusters, o.endpoints) : structured(selectedClusterStatuses(clusters, o.endpoints), o.output));
    return 0;
  }
  const raw = await loadConfigDump(o.target);
  const dump = parseConfigDump(raw);
  for (const p of dump.problems) o.warn(`warning: ${o.target.label}: cannot read ${p}\n`);
  if (o.output !== 'short') {
    write(structured(selection(o, dump, raw), o.output));
    return 0;
  }
  if (o.type === 'all') {
    const clusters = o.target.admin ? ((await loadClusters(o.target)) as ClustersJson) : undefined;
    write(allSummary(o, dump, clusters));
    return 0;
  }
  write(shortTable(o, dump));
  return 0;
}

function shortTable(o: ProxyConfigOptions, dump: ProxyDump): string {
  switch (o.type) {
    case 'listeners': return formatTable([LISTENERS_HEADER, ...listenerRows(dump.listeners, o.listeners)], 1);
    case 'routes': return formatTable([ROUTES_HEADER, ...routeRows(dump.routes, o.routeName)], 5);
    case 'clusters': return formatTable([CLUSTERS_HEADER, ...clusterRows(dump.clusters, o.clusters)], 5);
    case 'secret': return dump.secrets.length === 0 ? 'No active or warming secrets found.\n' : formatTable(secretTable(dump.secrets, o.now), 5);
    case 'bootstrap': return bootstrapSummary(dump.bootstrap);
    default: throw new Error(`unreachable: ${o.type}`);
  }
}

/** istioctl proxy-config all: every section, each first column naming the resource ("cluster/…", "listener/…"). */
function allSummary(o: ProxyConfigOptions, dump: ProxyDump, clusters: ClustersJson | undefined): string {
  const sections = [
    bootstrapSummary(dump.bootstrap),
    formatTable([['NAME', ...CLUSTERS_HEADER], ...clusterRows(dump.clusters, o.clusters, true)], 5),
    formatTable([['NAME', ...LISTENERS_HEADER], ...listenerRows(dump.listeners, o.listeners, true)], 1),
    formatTable([ROUTES_HEADER, ...routeRows(dump.routes, o.routeName, true)], 5),
    dump.secrets.length === 0 ? 'No active or warming secrets found.\n' : formatTable(secretTable(dump.secrets, o.now, true), 5),
  ];
  if (clusters) sections.push(formatTable([ENDPOINTS_HEADER, ...endpointRows(endpointsOf(clusters), o.endpoints, true)], 5));
  return sections.join('\n');
}

function endpointsTable(clusters: ClustersJson, f: EndpointFilter): string {
  return formatTable([ENDPOINTS_HEADER, ...endpointRows(endpointsOf(clusters), f)], 5);
}

/** istioctl's JSON for endpoints: the cluster statuses that have a matching host. */
function selectedClusterStatuses(clusters: ClustersJson, f: EndpointFilter): unknown[] {
  const all = endpointsOf(clusters);
  return (clusters.cluster_statuses ?? clusters.clusterStatuses ?? []).filter((c) => all.some((e) => e.cluster === c.name && endpointMatches(f, e)));
}

/** -o json|yaml: Envoy's JSON of the selected resources; bootstrap, secret and all: that part of the dump as it came. */
function selection(o: ProxyConfigOptions, dump: ProxyDump, raw: unknown): unknown {
  switch (o.type) {
    case 'listeners': return sortListeners(dump.listeners).filter((l) => listenerMatches(o.listeners, l)).map((l) => messageJson(ListenerSchema, l));
    case 'routes': return sortRoutes(dump.routes).filter((r) => !o.routeName || r.name === o.routeName).map((r) => messageJson(RouteConfigurationSchema, r));
    case 'clusters': return sortClusters(dump.clusters).filter((c) => clusterMatches(o.clusters, c)).map((c) => messageJson(ClusterSchema, c));
    case 'bootstrap': return dumpPart(raw, 'BootstrapConfigDump') ?? (dump.bootstrap ? { bootstrap: messageJson(BootstrapSchema, dump.bootstrap) } : {});
    case 'secret': return dumpPart(raw, 'SecretsConfigDump') ?? {};
    default: return raw;
  }
}

function dumpPart(raw: unknown, type: string): unknown {
  const configs = (raw as { configs?: { '@type'?: string }[] } | undefined)?.configs ?? [];
  return configs.find((c) => c['@type']?.endsWith(`.${type}`));
}

/** istioctl's bootstrap summary: the Istio and proxy versions the node announces. */
export function bootstrapSummary(b: Bootstrap | undefined): string {
  const node = b?.node;
  const rows: Row[] = [];
  const md = node?.metadata ?? {};
  if (typeof md['ISTIO_VERSION'] === 'string') rows.push(['Istio Version:', md['ISTIO_VERSION']]);
  const v = node?.userAgentVersionType;
  if (v?.case === 'userAgentBuildVersion' && v.value.version) rows.push(['Envoy Version:', `${v.value.version.majorNumber}.${v.value.version.minorNumber}.${v.value.version.patch}`]);
  if (v?.case === 'userAgentVersion') rows.push(['Proxy Version:', `${node!.userAgentName} ${v.value}`]);
  if (rows.length === 0) return 'No bootstrap information.\n';
  return formatTable(rows, 1);
}

/** proxy-config log: list the levels, or change them (POST /logging) and list them after. */
async function logLevels(o: ProxyConfigOptions, write: Write): Promise<number> {
  const admin = o.target.admin;
  if (admin === undefined) throw new TrellisError('CLI_USAGE', 'log levels are read from a running proxy: name a POD or give --admin');
  const post = adminRequest(o.target, 'POST');
  const current = await requestOk(admin, '/logging', post);
  const spec = o.reset ? RESET_LEVEL : o.level;
  let last = current;
  for (const q of spec === undefined ? [] : loggingQueries(spec, activeLoggerNames(current.body))) {
    last = await request(admin, `/logging?${q}`, post);
    if (last.status !== 200) throw new TrellisError('UNREACHABLE', `${post.what} refused /logging?${q}: ${last.body.trim()}`);
  }
  write(`${o.target.label}:\n${last.body}`);
  return 0;
}
