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

/** Istio's canonical-name: label, app.kubernetes.io/name, app, else the workload; at most 63 characters, no leading/trailing - _ . */
export function canonicalName(labels: Readonly<Record<string, string>>, w: WorkloadMeta): string {
  const raw = labels[LABEL.canonicalName] || labels['app.kubernetes.io/name'] || labels.app || w.name;
  return raw.slice(0, 63).replace(/^[-_.]+|[-_.]+$/g, '');
}

export function canonicalRevision(labels: Readonly<Record<string, string>>): string {
  return labels[LABEL.canonicalRevision] || labels['app.kubernetes.io/version'] || labels.version || 'latest';
}

export function injectedLabels(labels: Readonly<Record<string, string>>, w: WorkloadMeta): Record<string, string> {
  return {
    ...labels,
    [LABEL.tlsMode]: labels[LABEL.tlsMode] || 'istio',
    [LABEL.canonicalName]: canonicalName(labels, w),
    [LABEL.canonicalRevision]: canonicalRevision(labels),
  };
}

/** Annotation keys as Prometheus' relabelling sees them (Istio's SanitizeLabelName): prometheus.io/scrape → prometheus_io_scrape. */
const sanitize = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');
const PROM_KEYS = new Map([[sanitize(PROMETHEUS.scrape), 'scrape'], [sanitize(PROMETHEUS.port), 'port'], [sanitize(PROMETHEUS.path), 'path']] as const);

/** The app's own scrape settings, if any (ISTIO_PROMETHEUS_ANNOTATIONS carries them to the proxy). */
export interface ScrapeConfig {
  scrape: string;
  path: string;
  port: string;
}

/**
 * Istio's applyPrometheusMerge: unless the pod opted out of scraping or of
 * merging, the prometheus.io annotations are replaced by the proxy's
 * (agent port, /stats/prometheus) and the app's are handed to the proxy,
 * which appends the app's metrics to its own.
 */
export function prometheusMerge(annotations: Record<string, string>, cfg: InjectionConfig, agentPort: string): { annotations: Record<string, string>; app?: ScrapeConfig } {
  const found: Partial<ScrapeConfig> = {};
  for (const [k, v] of Object.entries(annotations)) {
    const field = PROM_KEYS.get(sanitize(k));
    if (field) found[field] = v;
  }
  const scrape = found.scrape === undefined ? true : parseGoBool(found.scrape) ?? true;
  const mergeAnno = annotations[ANNOTATION.prometheusMerge];
  const merge = mergeAnno === undefined ? cfg.enablePrometheusMerge : parseGoBool(mergeAnno) ?? cfg.enablePrometheusMerge;
  if (!scrape || !merge || agentPort === '0' || found.port === agentPort) return { annotations };
  if (found.port !== undefined && !(/^\d+$/.test(found.port) && Number(found.port) >= 1 && Number(found.port) <= 65535)) {
    throw new TrellisError('INJECT_INVALID', `invalid prometheus scrape configuration: invalid port "${found.port}"`);
  }
  const out = Object.fromEntries(Object.entries(annotations).filter(([k]) => !PROM_KEYS.has(sanitize(k))));
  out[PROMETHEUS.port] = agentPort;
  out[PROMETHEUS.path] = '/stats/prometheus';
  out[PROMETHEUS.scrape] = 'true';
  const any = found.scrape !== undefined || found.port !== undefined || found.path !== undefined;
  return { annotations: out, ...(any ? { app: { scrape: found.scrape ?? '', path: found.path ?? '', port: found.port ?? '' } } : {}) };
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
