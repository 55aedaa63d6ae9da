/**
 * Istio's sidecar injection decision and the pod changes its injector makes,
 * for the default revision:
 *
 * 1. hostNetwork pods and the kube-system / kube-public namespaces: never.
 * 2. A namespace labelled istio-injection=disabled: never.
 * 3. A pod labelled (or annotated) sidecar.istio.io/inject "false": never.
 * 4. A namespace labelled istio-injection=enabled, or with istio.io/rev: yes.
 * 5. Otherwise a pod *label* sidecar.istio.io/inject "true" opts it in (the
 *    webhook's object selector reads labels; an annotation alone is not seen).
 * 6. Otherwise no.
 */
import type { RunnablePodSpec } from '../../config/deployment.js';
import { LABEL } from '../../inject/names.js';

export interface InjectionInput {
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  spec: RunnablePodSpec;
  namespace: string;
  namespaceLabels: Readonly<Record<string, string>>;
}

export interface InjectionDecision {
  sidecar: boolean;
  /** Why, in the words the status shows (e.g. "namespace label istio-injection=enabled"). */
  reason: string;
}

const INJECT = 'sidecar.istio.io/inject';

export function injectionDecision(p: InjectionInput): InjectionDecision {
  if (p.spec.hostNetwork) return { sidecar: false, reason: 'hostNetwork pod' };
  if (p.namespace === 'kube-system' || p.namespace === 'kube-public') return { sidecar: false, reason: `namespace ${p.namespace}` };
  const nsInjection = p.namespaceLabels['istio-injection'];
  if (nsInjection === 'disabled') return { sidecar: false, reason: 'namespace label istio-injection=disabled' };
  const podValue = p.labels[INJECT] ?? p.annotations[INJECT];
  if (podValue?.toLowerCase() === 'false') return { sidecar: false, reason: `pod ${p.labels[INJECT] !== undefined ? 'label' : 'annotation'} ${INJECT}=false` };
  if (nsInjection === 'enabled') return { sidecar: true, reason: 'namespace label istio-injection=enabled' };
  if (p.namespaceLabels['istio.io/rev'] !== undefined) return { sidecar: true, reason: `namespace label istio.io/rev=${p.namespaceLabels['istio.io/rev']}` };
  if (p.labels[INJECT]?.toLowerCase() === 'true') return { sidecar: true, reason: `pod label ${INJECT}=true` };
  return { sidecar: false, reason: 'namespace not labelled for injection' };
}

/** Istio's canonical service name and revision (the injector's labels, what telemetry and proxy-config show). */
export function canonicalService(labels: Readonly<Record<string, string>>, workload: string): { name: string; revision: string } {
  return {
    name: labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels['app'] ?? workload,
    revision: labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels['version'] ?? 'latest',
  };
}

/**
 * The labels and annotations Istio's injector adds to a pod it injects.
 * `hbone`: the proxy has ISTIO_META_ENABLE_HBONE=true, and Istio's template
 * then labels the pod `networking.istio.io/tunnel` (its own value, else
 * "http") so that the workload API sends it with tunnel HBONE.
 */
export function injectedMetadata(labels: Readonly<Record<string, string>>, workload: string, hbone = false): { labels: Record<string, string>; annotations: Record<string, string> } {
  const canonical = canonicalService(labels, workload);
  return {
    labels: {
      'security.istio.io/tlsMode': 'istio',
      ...(hbone ? { [LABEL.tunnel]: labels[LABEL.tunnel] ?? 'http' } : {}),
      'service.istio.io/canonical-name': canonical.name,
      'service.istio.io/canonical-revision': canonical.revision,
    },
    annotations: {
      'sidecar.istio.io/status': JSON.stringify({ initContainers: ['istio-init'], containers: ['istio-proxy'], volumes: [], imagePullSecrets: null, revision: 'default' }),
    },
  };
}
