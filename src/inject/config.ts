/**
 * What the injector is told about the mesh: Istio's injection settings
 * (values.global.proxy.*, sidecarInjectorWebhook.*, meshConfig) gathered in
 * one object, with Istio's defaults. Read from the control plane's flags or
 * from `--injection-config FILE` (YAML of this shape, every field optional).
 */
import { parse } from 'yaml';
import { TrellisError } from '../errors.js';
import { isObject, type LabelSelector } from './k8s-types.js';

export interface ProxyResources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface InjectionConfig {
  /** The one image of the init container and the sidecar; its entrypoint is `trellis`. */
  image: string;
  imagePullPolicy?: string;
  /** This control plane's revision (istio.io/rev); "default" as Istio's default install. */
  revision: string;
  /** Istio's injection policy (values.global.proxy.autoInject): the verdict when a selected pod says nothing. */
  policy: 'enabled' | 'disabled';
  /** Where the control plane runs: never injected, and the host of its Service. */
  controlPlaneNamespace: string;
  /** Namespaces never injected (Istio's IgnoredNamespaces). */
  ignoredNamespaces: string[];
  neverInjectSelector: LabelSelector[];
  alwaysInjectSelector: LabelSelector[];
  /** The sidecar's xDS and CA address (istiod.NS.svc:15012). */
  discoveryAddress: string;
  clusterId: string;
  trustDomain: string;
  /** ISTIO_META_MESH_ID; the trust domain when unset, as Istio's template. */
  meshId?: string;
  clusterDomain: string;
  /** Native sidecars (Kubernetes ≥ 1.29): the proxy as an init container with restartPolicy Always. */
  nativeSidecars: boolean;
  /** Classic layout only: the proxy first, and the apps wait in its postStart hook until it is ready. */
  holdApplicationUntilProxyStarts: boolean;
  /** Istio's sidecarInjectorWebhook.rewriteAppHTTPProbe. */
  rewriteAppProbes: boolean;
  /** Istio's enablePrometheusMerge: scrape annotations point at the proxy, which merges the app's metrics. */
  enablePrometheusMerge: boolean;
  /** Istio's agent status port (values.global.proxy.statusPort): app probes and merged metrics. */
  agentPort: number;
  /** The health port (Istio's 15021): /healthz/ready. */
  healthPort: number;
  interceptionMode: 'REDIRECT' | 'TPROXY';
  includeIPRanges: string;
  excludeIPRanges: string;
  includeInboundPorts: string;
  excludeInboundPorts: string;
  includeOutboundPorts: string;
  excludeOutboundPorts: string;
  resources: ProxyResources;
  readiness: { initialDelaySeconds: number; periodSeconds: number; failureThreshold: number };
  startupProbe: { enabled: boolean; failureThreshold: number };
}

/** Istio's defaults (manifests/charts/istio-control/istio-discovery/values.yaml, meshConfig defaults). */
export function defaultInjectionConfig(controlPlaneNamespace = 'istio-system'): InjectionConfig {
  return {
    image: 'trellis:0.1.0',
    revision: 'default',
    policy: 'enabled',
    controlPlaneNamespace,
    ignoredNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'],
    neverInjectSelector: [],
    alwaysInjectSelector: [],
    discoveryAddress: `istiod.${controlPlaneNamespace}.svc:15012`,
    clusterId: 'Kubernetes',
    trustDomain: 'cluster.local',
    clusterDomain: 'cluster.local',
    nativeSidecars: true,
    holdApplicationUntilProxyStarts: false,
    rewriteAppProbes: true,
    enablePrometheusMerge: true,
    agentPort: 15020,
    healthPort: 15021,
    interceptionMode: 'REDIRECT',
    includeIPRanges: '*',
    excludeIPRanges: '',
    includeInboundPorts: '*',
    excludeInboundPorts: '',
    includeOutboundPorts: '',
    excludeOutboundPorts: '',
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } },
    readiness: { initialDelaySeconds: 0, periodSeconds: 15, failureThreshold: 4 },
    startupProbe: { enabled: true, failureThreshold: 600 },
  };
}

type Field = 'string' | 'boolean' | 'number' | 'strings' | 'selectors' | 'resources' | 'object';
const FIELDS: Record<keyof InjectionConfig, Field> = {
  image: 'string', imagePullPolicy: 'string', revision: 'string', policy: 'string', controlPlaneNamespace: 'string',
  ignoredNamespaces: 'strings', neverInjectSelector: 'selectors', alwaysInjectSelector: 'selectors',
  discoveryAddress: 'string', clusterId: 'string', trustDomain: 'string', meshId: 'string', clusterDomain: 'string',
  nativeSidecars: 'boolean', holdApplicationUntilProxyStarts: 'boolean', rewriteAppProbes: 'boolean',
  enablePrometheusMerge: 'boolean', agentPort: 'number', healthPort: 'number', interceptionMode: 'string',
  includeIPRanges: 'string', excludeIPRanges: 'string', includeInboundPorts: 'string', excludeInboundPorts: 'string',
  includeOutboundPorts: 'string', excludeOutboundPorts: 'string', resources: 'resources', readiness: 'object', startupProbe: 'object',
};

/**
 * Overrides `base` with a YAML document of the same shape. Every problem is
 * collected with its field name; any problem throws INJECT_CONFIG listing them all.
 */
export function parseInjectionConfig(text: string, base: InjectionConfig = defaultInjectionConfig()): InjectionConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TrellisError('INJECT_CONFIG', `injection config is not YAML: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return base;
  if (!isObject(doc)) throw new TrellisError('INJECT_CONFIG', 'injection config: expected a mapping of settings');
  const errors: string[] = [];
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(doc)) {
    const kind = FIELDS[key as keyof InjectionConfig];
    if (!kind) errors.push(`${key}: unknown setting`);
    else if (!fits(kind, value)) errors.push(`${key}: expected ${kind}`);
    else out[key] = kind === 'object' ? { ...(base[key as keyof InjectionConfig] as object), ...(value as object) } : value;
  }
  const cfg = out as unknown as InjectionConfig;
  if (cfg.policy !== 'enabled' && cfg.policy !== 'disabled') errors.push(`policy: must be enabled or disabled, not ${String(cfg.policy)}`);
  if (cfg.interceptionMode !== 'REDIRECT' && cfg.interceptionMode !== 'TPROXY') errors.push('interceptionMode: must be REDIRECT or TPROXY');
  if (!('discoveryAddress' in doc) && 'controlPlaneNamespace' in doc) cfg.discoveryAddress = `istiod.${cfg.controlPlaneNamespace}.svc:15012`;
  if (errors.length > 0) throw new TrellisError('INJECT_CONFIG', `injection config: ${errors.join('; ')}`);
  return cfg;
}

function fits(kind: Field, v: unknown): boolean {
  switch (kind) {
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'number': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
    case 'strings': return Array.isArray(v) && v.every((s) => typeof s === 'string');
    case 'selectors': return Array.isArray(v) && v.every(isObject);
    case 'resources': return isObject(v);
    case 'object': return isObject(v);
  }
}
