/**
 * The labels and annotations injection adds to the pod, as Istio's template
 * and post-processing do: tlsMode (auto mTLS finds sidecars by it), the
 * canonical service name and revision (telemetry), istio.io/rev, the
 * default container for kubectl, and the Prometheus annotations that point a
 * scraper at the proxy's merged metrics.
 */
import { TrellisError } from '../errors.js';
import type { InjectionConfig } from './config.js';
import type { Container, ObjectMeta } from './k8s-types.js';
import { ANNOTATION, LABEL, PROMETHEUS, PROXY_CONTAINER } from './names.js';
import { parseGoBool } from './validate-annotations.js';
import type { WorkloadMeta } from './workload-meta.js';
import type { ScrapeConfig, ScrapeTarget } from '../proxy/agent/app-metrics-config.js';

/** Istio's canonical-name: label, app.kubernetes.io/name, app, else the workload; at most 63 characters, no leading/trailing - _ . */
export function canonicalName(labels: Readonly<Record<string, string>>, w: WorkloadMeta): string {
  const raw = labels[LABEL.canonicalName] || labels['app.kubernetes.io/name'] || labels.app || w.name;
  return raw.slice(0, 63).replace(/^[-_.]+|[-_.]+$/g, '');
}

export function canonicalRevision(labels: Readonly<Record<string, string>>): string {
  return labels[LABEL.canonicalRevision] || labels['app.kubernetes.io/version'] || labels.version || 'latest';
}

export function injectedLabels(labels: Readonly<Record<string, string>>, w: WorkloadMeta, proxyMetadata: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    ...labels,
    [LABEL.tlsMode]: labels[LABEL.tlsMode] || 'istio',
    ...(proxyMetadata.ISTIO_META_ENABLE_HBONE === 'true' ? { [LABEL.tunnel]: labels[LABEL.tunnel] || 'http' } : {}),
    [LABEL.canonicalName]: canonicalName(labels, w),
    [LABEL.canonicalRevision]: canonicalRevision(labels),
  };
}

/** Annotation keys as Prometheus' relabelling sees them (Istio's SanitizeLabelName): prometheus.io/scrape → prometheus_io_scrape. */
const sanitize = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');
const PROM_KEYS = new Map([
  [sanitize(PROMETHEUS.scrape), 'scrape'], [sanitize(PROMETHEUS.port), 'port'], [sanitize(PROMETHEUS.path), 'path'], [sanitize(PROMETHEUS.scrapeTargets), 'targets'],
] as const);

/** Ports of the proxy and the capture rules: scraping them as "the app's metrics" would loop or hit something else (Istio's reserved ports). */
const RESERVED_PORTS: Readonly<Record<string, string>> = {
  15000: 'the proxy\'s admin', 15001: 'outbound capture', 15004: 'debug', 15006: 'inbound capture', 15008: 'the tunnel port',
  15020: 'the merged metrics themselves', 15021: 'the health port', 15053: 'DNS capture', 15090: 'the proxy\'s own metrics',
};

/** "8080:/metrics,9100" → targets (an empty path is /metrics), as Istio's prometheus.istio.io/scrape-targets. */
export function parseScrapeTargets(raw: string): ScrapeTarget[] {
  const out: ScrapeTarget[] = [];
  for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const colon = entry.indexOf(':');
    const port = (colon < 0 ? entry : entry.slice(0, colon)).trim();
    const path = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (port === '') throw new TrellisError('INJECT_INVALID', `invalid prometheus scrape targets: empty port in ${JSON.stringify(entry)}`);
    out.push({ port, path: path || '/metrics' });
  }
  return out;
}

function checkScrapePort(port: string, agentPort: string, what: string): void {
  const n = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new TrellisError('INJECT_INVALID', `invalid prometheus ${what}: invalid port ${JSON.stringify(port)}`);
  const canon = String(n);
  if (canon === agentPort) throw new TrellisError('INJECT_INVALID', `invalid prometheus ${what}: port ${port} conflicts with the agent port`);
  const reserved = RESERVED_PORTS[canon];
  if (reserved) throw new TrellisError('INJECT_INVALID', `invalid prometheus ${what}: port ${port} is reserved (${reserved}) and cannot be scraped`);
}

/**
 * Istio's applyPrometheusMerge: unless the pod opted out of scraping or of
 * merging, the prometheus.io annotations are replaced by the proxy's
 * (agent port, /stats/prometheus) and the app's are handed to the proxy,
 * which appends the app's metrics to its own. Where Istio names the mesh's
 * default agent port (15020) even when the pod's agent listens elsewhere or
 * not at all, Trellis names the port that serves, and leaves the
 * annotations alone when nothing does (agent port 0).
 */
export function prometheusMerge(annotations: Record<string, string>, cfg: InjectionConfig, agentPort: string): { annotations: Record<string, string>; app?: ScrapeConfig } {
  const found: { scrape?: string; port?: string; path?: string; targets?: string } = {};
  for (const [k, v] of Object.entries(annotations)) {
    const field = PROM_KEYS.get(sanitize(k));
    if (field) found[field] = v;
  }
  const scrape = found.scrape === undefined ? true : parseGoBool(found.scrape) ?? true;
  const mergeAnno = annotations[ANNOTATION.prometheusMerge];
  const merge = mergeAnno === undefined ? cfg.enablePrometheusMerge : parseGoBool(mergeAnno) ?? cfg.enablePrometheusMerge;
  if (!scrape || !merge || agentPort === '0' || found.port === agentPort) return { annotations };
  const app: ScrapeConfig = { scrape: found.scrape ?? '', path: found.path ?? '', port: found.port ?? '' };
  const targets = found.targets === undefined ? [] : parseScrapeTargets(found.targets);
  if (targets.length > 0) {
    // The first target also fills port and path, for agents that know only those.
    app.port = targets[0]!.port;
    app.path = targets[0]!.path;
    app.targets = targets;
    for (const t of targets) checkScrapePort(t.port, agentPort, 'scrape targets');
  } else if (found.port !== undefined && found.port !== '') {
    checkScrapePort(found.port, agentPort, 'scrape configuration');
  }
  const out = Object.fromEntries(Object.entries(annotations).filter(([k]) => !PROM_KEYS.has(sanitize(k))));
  out[PROMETHEUS.port] = agentPort;
  out[PROMETHEUS.path] = '/stats/prometheus';
  out[PROMETHEUS.scrape] = 'true';
  const any = app.scrape !== '' || app.port !== '' || app.path !== '' || targets.length > 0;
  return { annotations: out, ...(any ? { app } : {}) };
}

/** kubectl's default container: the first app container, unless the pod names one. */
export function defaultContainerAnnotations(annotations: Readonly<Record<string, string>>, containers: readonly Container[]): Record<string, string> {
  const first = containers.find((c) => c.name !== PROXY_CONTAINER)?.name;
  if (first === undefined) return {};
  const out: Record<string, string> = {};
  if (annotations[ANNOTATION.defaultLogsContainer] === undefined) out[ANNOTATION.defaultLogsContainer] = first;
  if (annotations[ANNOTATION.defaultContainer] === undefined) out[ANNOTATION.defaultContainer] = first;
  return out;
}

/** sidecar.istio.io/status: what was injected, so that tools (and Trellis) know the pod is done. */
export function statusAnnotation(injected: { initContainers: string[]; containers: string[]; volumes: string[] }, revision: string): string {
  return JSON.stringify({
    initContainers: injected.initContainers.length > 0 ? injected.initContainers : null,
    containers: injected.containers.length > 0 ? injected.containers : null,
    volumes: injected.volumes.length > 0 ? injected.volumes : null,
    imagePullSecrets: null,
    revision: revision || 'default',
  });
}

export type { ObjectMeta };
