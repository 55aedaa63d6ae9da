/**
 * The label, annotation and container names of the injector, spelled once.
 * Labels and annotations are Istio's, so that manifests, dashboards and
 * tools written for Istio (Kiali's checks for sidecar.istio.io/status, the
 * prometheus.io scrape annotations) keep working; the containers carry
 * Trellis's own names, so `kubectl logs -c trellis-proxy` says what runs.
 */

/** The sidecar's container name. */
export const PROXY_CONTAINER = 'trellis-proxy';
/** The init container that writes the capture rules (Istio's istio-init). */
export const INIT_CONTAINER = 'trellis-init';
/** Istio's sidecar: a pod that has it was injected by Istio and is not injected again. */
export const ISTIO_PROXY_CONTAINER = 'istio-proxy';

export const LABEL = {
  injection: 'istio-injection',
  rev: 'istio.io/rev',
  inject: 'sidecar.istio.io/inject',
  tlsMode: 'security.istio.io/tlsMode',
  canonicalName: 'service.istio.io/canonical-name',
  canonicalRevision: 'service.istio.io/canonical-revision',
  /** Istio's template sets it ("http") when proxyMetadata has ISTIO_META_ENABLE_HBONE=true: the sidecar terminates HBONE. */
  tunnel: 'networking.istio.io/tunnel',
  workloadName: 'service.istio.io/workload-name',
  podTemplateHash: 'pod-template-hash',
} as const;

export const ANNOTATION = {
  inject: 'sidecar.istio.io/inject',
  status: 'sidecar.istio.io/status',
  rev: 'istio.io/rev',
  nativeSidecar: 'sidecar.istio.io/nativeSidecar',
  interceptionMode: 'sidecar.istio.io/interceptionMode',
  proxyImage: 'sidecar.istio.io/proxyImage',
  proxyCpu: 'sidecar.istio.io/proxyCPU',
  proxyMemory: 'sidecar.istio.io/proxyMemory',
  proxyCpuLimit: 'sidecar.istio.io/proxyCPULimit',
  proxyMemoryLimit: 'sidecar.istio.io/proxyMemoryLimit',
  rewriteAppProbers: 'sidecar.istio.io/rewriteAppHTTPProbers',
  userVolume: 'sidecar.istio.io/userVolume',
  userVolumeMount: 'sidecar.istio.io/userVolumeMount',
  templates: 'inject.istio.io/templates',
  proxyConfig: 'proxy.istio.io/config',
  statusPort: 'status.sidecar.istio.io/port',
  readinessInitialDelay: 'readiness.status.sidecar.istio.io/initialDelaySeconds',
  readinessPeriod: 'readiness.status.sidecar.istio.io/periodSeconds',
  readinessFailureThreshold: 'readiness.status.sidecar.istio.io/failureThreshold',
  includeOutboundIpRanges: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  excludeOutboundIpRanges: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  includeInboundPorts: 'traffic.sidecar.istio.io/includeInboundPorts',
  excludeInboundPorts: 'traffic.sidecar.istio.io/excludeInboundPorts',
  includeOutboundPorts: 'traffic.sidecar.istio.io/includeOutboundPorts',
  excludeOutboundPorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  excludeInterfaces: 'traffic.sidecar.istio.io/excludeInterfaces',
  kubevirtInterfaces: 'traffic.sidecar.istio.io/kubevirtInterfaces',
  rerouteVirtualInterfaces: 'istio.io/reroute-virtual-interfaces',
  prometheusMerge: 'prometheus.istio.io/merge-metrics',
  defaultContainer: 'kubectl.kubernetes.io/default-container',
  defaultLogsContainer: 'kubectl.kubernetes.io/default-logs-container',
} as const;

/** Prometheus' scrape annotations (the merged-metrics feature rewrites them). */
export const PROMETHEUS = {
  scrape: 'prometheus.io/scrape',
  port: 'prometheus.io/port',
  path: 'prometheus.io/path',
  /** Istio's: several app endpoints merged, "PORT:PATH,PORT:PATH". */
  scrapeTargets: 'prometheus.istio.io/scrape-targets',
} as const;

/** Environment variables the proxy reads from its container (set by the injector). */
export const PROXY_ENV = {
  appProbers: 'ISTIO_KUBE_APP_PROBERS',
  prometheusAnnotations: 'ISTIO_PROMETHEUS_ANNOTATIONS',
} as const;
