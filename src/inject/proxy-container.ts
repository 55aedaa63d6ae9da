/**
 * The sidecar container: `trellis proxy` as uid/gid 1337 (the uid the
 * capture rules exempt). Its node id is built by Kubernetes from the downward API ($(VAR)
 * expansion in args), its identity comes from the mounted token and root
 * certificate, and it serves Istio's agent ports: the health port
 * (/healthz/ready, the readiness and startup probes) and the agent port
 * (merged metrics, the rewritten app probes).
 */
import { PROXY_UID } from './capture-args.js';
import type { InjectionConfig } from './config.js';
import type { Container, ContainerPort, EnvVar, PodSpec } from './k8s-types.js';
import { PROXY_CONTAINER, PROXY_ENV } from './names.js';
import type { ScrapeConfig } from '../proxy/agent/app-metrics-config.js';
import type { WorkloadMeta } from './workload-meta.js';

export interface SidecarInputs {
  cfg: InjectionConfig;
  image: string;
  spec: PodSpec;
  labels: Readonly<Record<string, string>>;
  workload: WorkloadMeta;
  workloadName: string;
  native: boolean;
  hold: boolean;
  /** The agent port as text; "0" turns it (and the probes of the proxy) off. */
  agentPort: string;
  interceptionMode: string;
  resources: Container['resources'];
  mounts: NonNullable<Container['volumeMounts']>;
  readiness: { initialDelaySeconds: number; periodSeconds: number; failureThreshold: number };
  proxyMetadata: Readonly<Record<string, string>>;
  appProbers?: string;
  appScrape?: ScrapeConfig;
}

const field = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

function env(x: SidecarInputs): EnvVar[] {
  const apps = x.spec.containers;
  const ports: ContainerPort[] = x.spec.containers.flatMap((c) => c.ports ?? []);
  const w = x.workload;
  const out: EnvVar[] = [
    field('POD_NAME', 'metadata.name'),
    field('POD_NAMESPACE', 'metadata.namespace'),
    field('INSTANCE_IP', 'status.podIP'),
    field('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    field('HOST_IP', 'status.hostIP'),
    field('ISTIO_META_POD_NAME', 'metadata.name'),
    field('ISTIO_META_NAMESPACE', 'metadata.namespace'),
    { name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(ports) },
    ...(apps.length > 0 ? [{ name: 'ISTIO_META_APP_CONTAINERS', value: apps.map((c) => c.name).join(',') }] : []),
    { name: 'ISTIO_META_CLUSTER_ID', value: x.cfg.clusterId },
    field('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: x.interceptionMode },
    // Istio's agent reads the labels from a downward-API file; Trellis's proxy reads its metadata from the environment.
    { name: 'ISTIO_META_LABELS', value: JSON.stringify(x.labels) },
  ];
  if (x.workloadName) out.push({ name: 'ISTIO_META_WORKLOAD_NAME', value: x.workloadName });
  if (w.apiVersion && w.name) {
    out.push({ name: 'ISTIO_META_OWNER', value: `kubernetes://apis/${w.apiVersion}/namespaces/${w.namespace || 'default'}/${w.kind.toLowerCase()}s/${w.name}` });
  }
  out.push({ name: 'ISTIO_META_MESH_ID', value: x.cfg.meshId || x.cfg.trustDomain });
  out.push({ name: 'TRUST_DOMAIN', value: x.cfg.trustDomain });
  for (const [k, v] of Object.entries(x.proxyMetadata)) out.push({ name: k, value: v });
  if (x.appScrape) out.push({ name: PROXY_ENV.prometheusAnnotations, value: JSON.stringify(x.appScrape) });
  if (x.appProbers) out.push({ name: PROXY_ENV.appProbers, value: x.appProbers });
  return out;
}

function args(x: SidecarInputs): string[] {
  const domain = x.cfg.clusterDomain;
  return [
    'proxy',
    '--xds-address', x.cfg.discoveryAddress,
    '--node-id', `sidecar~$(INSTANCE_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.${domain}`,
    '--trust-domain', x.cfg.trustDomain,
    '--health-port', String(x.cfg.healthPort),
    ...(x.agentPort === '0' ? [] : ['--status-port', x.agentPort]),
  ];
}

const readyGet = (port: number) => ({ httpGet: { path: '/healthz/ready', port } });

export function proxyContainer(x: SidecarInputs): Container {
  const c: Container = {
    name: PROXY_CONTAINER,
    image: x.image,
    ...(x.cfg.imagePullPolicy ? { imagePullPolicy: x.cfg.imagePullPolicy } : {}),
    ...(x.native ? { restartPolicy: 'Always' } : {}),
    args: args(x),
    env: env(x),
  };
  // The app containers start only after this hook returns: `trellis wait` polls the health port until ready.
  if (x.hold) c.lifecycle = { postStart: { exec: { command: ['trellis', 'wait', '--port', String(x.cfg.healthPort)] } } };
  if (x.agentPort !== '0') {
    if (x.cfg.startupProbe.enabled) {
      c.startupProbe = { ...readyGet(x.cfg.healthPort), periodSeconds: 1, timeoutSeconds: 3, failureThreshold: x.cfg.startupProbe.failureThreshold };
    }
    const r = x.readiness;
    c.readinessProbe = {
      ...readyGet(x.cfg.healthPort),
      ...(r.initialDelaySeconds > 0 ? { initialDelaySeconds: r.initialDelaySeconds } : {}),
      periodSeconds: r.periodSeconds,
      timeoutSeconds: 3,
      failureThreshold: r.failureThreshold,
    };
  }
  c.securityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsGroup: PROXY_UID,
    runAsNonRoot: true,
    runAsUser: PROXY_UID,
  };
  c.resources = x.resources ?? {};
  c.volumeMounts = x.mounts;
  return c;
}
