/**
 * Reading Istio's injection goldens (conformance/istio-inject) and comparing
 * an injected pod template with Istio's in meaning: container names mapped
 * (istio-init → trellis-init, istio-proxy → trellis-proxy), capture flags
 * compared as the capture config they parse to, the parts of the sidecar a
 * cluster acts on (restart policy, security context, probes, resources,
 * identity volumes, environment the proxy reads), app probes as rewritten,
 * and the pod's labels and annotations. Istio's agent-only details
 * (its bootstrap env, sockets, preStop drain command) are not compared.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isDeepStrictEqual } from 'node:util';
import { parseIptablesArgs } from '../../../src/iptables/flags.js';
import { podTemplates } from '../../../src/inject/workloads.js';
import { parseQuantity } from '../../../src/inject/quantity.js';
import type { Container, PodSpec } from '../../../src/inject/k8s-types.js';

export const INJECT_DIR = '/work/shared/conformance/istio-inject';

export function readDocs(name: string): unknown[] {
  const text = readFileSync(join(INJECT_DIR, name), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as unknown).filter((d) => d !== null && d !== undefined);
}

const NAME_MAP: Record<string, string> = { 'istio-init': 'trellis-init', 'istio-proxy': 'trellis-proxy', 'istio-validation': 'trellis-validation' };
const mapName = (n: string) => NAME_MAP[n] ?? n;

/** Istio-only flags of istio-iptables that change nothing in the rules (logging). */
const IGNORED_IPTABLES_FLAGS = /^--log_output_level=/;

/** The capture config a container's args mean (program name dropped), or the parser's errors. */
export function captureOf(args: readonly string[] | undefined): unknown {
  const flags = (args ?? []).slice(1).filter((a) => !IGNORED_IPTABLES_FLAGS.test(a));
  const parsed = parseIptablesArgs(flags);
  return parsed.errors.length > 0 ? { errors: parsed.errors } : parsed.config;
}

const find = (list: readonly Container[] | undefined, name: string) => (list ?? []).find((c) => mapName(c.name) === name);
const envOf = (c: Container | undefined, name: string) => c?.env?.find((e) => e.name === name)?.value;

/** A JSON env value compared as data (Istio pretty-prints ISTIO_META_POD_PORTS). */
function jsonEnv(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/** Resource amounts as numbers: the API server canonicalises "3000m" to "3", so both mean the same. */
function amounts(r: unknown): unknown {
  if (typeof r !== 'object' || r === null) return r;
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'object' && v !== null
    ? Object.fromEntries(Object.entries(v as Record<string, string | number>).map(([n, q]) => [n, parseQuantity(q) ?? q]))
    : v]));
}

/** Go's marshalling writes `resources: {}` and the like; absent and empty mean the same. */
function dropEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropEmpty);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const d = dropEmpty(x);
      if (typeof d === 'object' && d !== null && !Array.isArray(d) && Object.keys(d).length === 0) continue;
      out[k] = d;
    }
    return out;
  }
  return v;
}

/** Environment the proxy reads or the cluster shows, compared by value. */
const COMPARED_ENV = ['ISTIO_META_CLUSTER_ID', 'ISTIO_META_MESH_ID', 'ISTIO_META_APP_CONTAINERS', 'ISTIO_META_WORKLOAD_NAME', 'ISTIO_META_OWNER',
  'ISTIO_META_INTERCEPTION_MODE', 'TRUST_DOMAIN'];
const COMPARED_JSON_ENV = ['ISTIO_META_POD_PORTS', 'ISTIO_KUBE_APP_PROBERS', 'ISTIO_PROMETHEUS_ANNOTATIONS'];
const COMPARED_ANNOTATIONS = /^(prometheus\.io\/|kubectl\.kubernetes\.io\/|istio\.io\/rev$)/;

export interface TemplateView {
  workload: string;
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export function templatesOf(docs: readonly unknown[]): TemplateView[] {
  return docs.flatMap((d) => podTemplates(d));
}

/**
 * Istio's pod templates, with one quirk of istioctl kube-inject undone: for a
 * CronJob it writes the pod's labels and annotations on jobTemplate.metadata
 * (where they reach the Job, not its pods); Trellis puts them on the pod
 * template, where the webhook puts them on the pod.
 */
export function istioTemplatesOf(docs: readonly unknown[]): TemplateView[] {
  return docs.flatMap((d) => {
    const doc = structuredClone(d) as { kind?: string; spec?: { jobTemplate?: { metadata?: TemplateView['metadata']; spec?: { template?: { metadata?: TemplateView['metadata'] } } } } };
    const jt = doc.kind === 'CronJob' ? doc.spec?.jobTemplate : undefined;
    if (jt?.metadata && jt.spec?.template) {
      const t = jt.spec.template;
      t.metadata = { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}), ...(jt.metadata.labels ?? {}) }, annotations: { ...(t.metadata?.annotations ?? {}), ...(jt.metadata.annotations ?? {}) } };
      delete jt.metadata;
    }
    return podTemplates(doc);
  });
}

export const injectedByIstio = (t: TemplateView) => t.metadata.annotations?.['sidecar.istio.io/status'] !== undefined;

/** Every way `ours` differs in meaning from Istio's `want`; empty when they agree. */
export function differences(ours: TemplateView, want: TemplateView): string[] {
  const out: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => {
    if (!isDeepStrictEqual(dropEmpty(a), dropEmpty(b))) out.push(`${what}: ours ${JSON.stringify(a)}, Istio's ${JSON.stringify(b)}`);
  };
  same('init containers', (ours.spec.initContainers ?? []).map((c) => c.name), (want.spec.initContainers ?? []).map((c) => mapName(c.name)));
  same('containers', ours.spec.containers.map((c) => c.name), want.spec.containers.map((c) => mapName(c.name)));
  const oursAll = [...(ours.spec.initContainers ?? []), ...ours.spec.containers];
  const wantAll = [...(want.spec.initContainers ?? []), ...want.spec.containers];
  const init = find(oursAll, 'trellis-init');
  const wantInit = find(wantAll, 'trellis-init');
  if (wantInit || init) {
    same('capture flags', captureOf(init?.args), captureOf(wantInit?.args));
    same('init securityContext', init?.securityContext, wantInit?.securityContext);
    // Istio's template gives istio-init the pod's proxyMetadata (ISTIO_META_DNS_CAPTURE turns on DNS capture there).
    same('init env', init?.env ?? [], wantInit?.env ?? []);
  }
  const proxy = find(oursAll, 'trellis-proxy');
  const wantProxy = find(wantAll, 'trellis-proxy');
  for (const f of ['restartPolicy', 'securityContext', 'readinessProbe', 'startupProbe', 'livenessProbe', 'imagePullPolicy', 'tty', 'terminationMessagePath'] as const) {
    same(`proxy ${f}`, proxy?.[f], wantProxy?.[f]);
  }
  same('proxy resources', amounts(proxy?.resources), amounts(wantProxy?.resources));
  if (wantInit || init) same('init resources', amounts(init?.resources), amounts(wantInit?.resources));
  for (const e of COMPARED_ENV) same(`proxy env ${e}`, envOf(proxy, e), envOf(wantProxy, e));
  for (const e of COMPARED_JSON_ENV) same(`proxy env ${e}`, jsonEnv(envOf(proxy, e)), jsonEnv(envOf(wantProxy, e)));
  const mounts = (c: Container | undefined) => new Map((c?.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
  for (const name of ['istio-token', 'istiod-ca-cert']) same(`proxy mount ${name}`, mounts(proxy).get(name), mounts(wantProxy).get(name));
  const volumes = (s: PodSpec) => new Map((s.volumes ?? []).map((v) => [v.name, v]));
  for (const name of ['istio-token', 'istiod-ca-cert']) same(`volume ${name}`, volumes(ours.spec).get(name), volumes(want.spec).get(name));
  for (const v of want.spec.volumes ?? []) {
    if (!v.name.startsWith('istio') && !['workload-socket', 'credential-socket', 'workload-certs'].includes(v.name)) same(`volume ${v.name}`, volumes(ours.spec).get(v.name), v);
  }
  for (const c of want.spec.containers.filter((x) => mapName(x.name) !== 'trellis-proxy')) {
    const o = find(ours.spec.containers, c.name);
    for (const f of ['readinessProbe', 'livenessProbe', 'startupProbe', 'lifecycle', 'env', 'volumeMounts'] as const) same(`container ${c.name} ${f}`, o?.[f], c[f]);
  }
  same('labels', ours.metadata.labels, want.metadata.labels);
  const pick = (a: Record<string, string> | undefined) => Object.fromEntries(Object.entries(a ?? {}).filter(([k]) => COMPARED_ANNOTATIONS.test(k)));
  same('annotations', pick(ours.metadata.annotations), pick(want.metadata.annotations));
  return out;
}
