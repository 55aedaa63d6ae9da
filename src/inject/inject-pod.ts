/**
 * The injected pod, from the original: Istio's injection template and its
 * post-processing (probe rewrite, Prometheus merge, container order, status
 * annotation) adapted to Trellis's binaries. Pure: the webhook diffs the
 * result against the original into a JSON patch, kube-inject prints it.
 *
 * Layout. Native sidecars (the default; Kubernetes ≥ 1.29): initContainers
 * = [istio-init, istio-proxy (restartPolicy: Always), ...the pod's own], so
 * the pod's init containers already run in the mesh and a Job completes when
 * its containers do. Classic (sidecar.istio.io/nativeSidecar: "false" or
 * nativeSidecars: false): istio-init after the pod's init containers (they
 * run before capture), istio-proxy last among the containers — or first,
 * with a postStart hook that waits for readiness, when
 * holdApplicationUntilProxyStarts is on.
 */
import { TrellisError } from '../errors.js';
import { appProbersJson, rewriteContainerProbes } from './app-probes.js';
import { agentPortText, captureArgs, interceptionMode } from './capture-args.js';
import type { InjectionConfig } from './config.js';
import type { Container, PodLike, Volume } from './k8s-types.js';
import { initContainer } from './init-container.js';
import { applyOverride, takeOverrides } from './container-override.js';
import { ANNOTATION, PROXY_CONTAINER } from './names.js';
import { defaultContainerAnnotations, injectedLabels, prometheusMerge, statusAnnotation } from './pod-metadata.js';
import { podProxyConfig } from './proxy-config-annotation.js';
import { proxyContainer } from './proxy-container.js';
import { proxyResources } from './resources.js';
import { sidecarMounts, sidecarVolumes } from './sidecar-volumes.js';
import { annotationErrors, parseGoBool } from './validate-annotations.js';
import { workloadFromPod, workloadName, type WorkloadMeta } from './workload-meta.js';

export interface InjectOptions {
  cfg: InjectionConfig;
  /** The pod's namespace (the review's, or the workload's for kube-inject). */
  namespace: string;
  /** kube-inject knows the workload it reads; the webhook derives it from the pod. */
  workload?: WorkloadMeta;
}

/** Whether the proxy runs as a native sidecar for this pod: its annotation, else the mesh's setting. */
export function nativeSidecarFor(annotations: Readonly<Record<string, string>>, cfg: InjectionConfig): boolean {
  const a = annotations[ANNOTATION.nativeSidecar];
  return a === 'true' ? true : a === 'false' ? false : cfg.nativeSidecars;
}

function readinessFrom(annotations: Readonly<Record<string, string>>, cfg: InjectionConfig): InjectionConfig['readiness'] {
  const n = (k: string, d: number) => (annotations[k] === undefined ? d : Number(annotations[k]));
  return {
    initialDelaySeconds: n(ANNOTATION.readinessInitialDelay, cfg.readiness.initialDelaySeconds),
    periodSeconds: n(ANNOTATION.readinessPeriod, cfg.readiness.periodSeconds),
    failureThreshold: n(ANNOTATION.readinessFailureThreshold, cfg.readiness.failureThreshold),
  };
}

/** Volumes with the sidecar's added; a pod volume of the same name is replaced, as Istio's merge by name does. */
function mergeVolumes(own: readonly Volume[], added: readonly Volume[]): Volume[] {
  const names = new Set(added.map((v) => v.name));
  return [...own.filter((v) => !names.has(v.name)), ...added];
}

/** The pod with the sidecar injected. Throws INJECT_INVALID for annotations Istio would refuse. */
export function injectPod(pod: PodLike, opts: InjectOptions): PodLike {
  const { cfg } = opts;
  const meta = pod.metadata;
  const annotations = meta.annotations ?? {};
  const problems = annotationErrors(annotations);
  if (problems.length > 0) throw new TrellisError('INJECT_INVALID', problems.join('; '));
  const mode = interceptionMode(annotations, cfg);
  if (mode === 'TPROXY') throw new TrellisError('INJECT_INVALID', 'interceptionMode TPROXY is not supported by Trellis\'s injector yet (use REDIRECT)');
  const overrides = takeOverrides(pod.spec);
  const spec = overrides.spec;
  const workload = opts.workload ?? workloadFromPod(meta, opts.namespace);
  const native = nativeSidecarFor(annotations, cfg);
  const podProxy = podProxyConfig(annotations);
  const hold = !native && (podProxy.holdApplicationUntilProxyStarts ?? cfg.holdApplicationUntilProxyStarts);
  const agentPort = agentPortText(annotations, cfg);
  const proxyImage = annotations[ANNOTATION.proxyImage];
  const image = proxyImage?.includes('/') ? proxyImage : cfg.image;
  const labels = injectedLabels(meta.labels ?? {}, workload, podProxy.proxyMetadata);
  const prom = prometheusMerge(annotations, cfg, agentPort);
  const rewriteAnno = annotations[ANNOTATION.rewriteAppProbers];
  const rewrite = (rewriteAnno === undefined ? cfg.rewriteAppProbes : parseGoBool(rewriteAnno) ?? cfg.rewriteAppProbes) && agentPort !== '0';
  const appProbers = rewrite ? appProbersJson(spec, Number(agentPort)) : undefined;
  const fix = (c: Container) => (rewrite ? rewriteContainerProbes(c, Number(agentPort)) : c);
  const apps = spec.containers.map(fix);
  const ownInit = (spec.initContainers ?? []).map(fix);
  const resources = proxyResources(annotations, cfg);
  const proxy = applyOverride(proxyContainer({
    cfg, image, spec, labels, workload, workloadName: workloadName(meta, workload), native, hold, agentPort,
    interceptionMode: mode, resources, mounts: sidecarMounts(annotations), readiness: readinessFrom(annotations, cfg),
    proxyMetadata: podProxy.proxyMetadata, ...(appProbers ? { appProbers } : {}), ...(prom.app ? { appScrape: prom.app } : {}),
  }), overrides.proxy);
  // The capture rules exempt the proxy's uid and gid: a pod that runs its proxy as another user moves the exemption with it.
  const runAs = proxyUser(proxy);
  const init = mode === 'NONE' ? [] : [applyOverride(initContainer(captureArgs(annotations, cfg, runAs), image, resources, cfg, podProxy.proxyMetadata), overrides.init)];
  const initContainers = native ? [...init, proxy, ...ownInit] : [...ownInit, ...init];
  const containers = native ? apps : hold ? [proxy, ...apps] : [...apps, proxy];
  const added = sidecarVolumes(annotations);
  const status = statusAnnotation({
    initContainers: native ? [...init.map((c) => c.name), PROXY_CONTAINER] : init.map((c) => c.name),
    containers: native ? [] : [PROXY_CONTAINER],
    volumes: added.map((v) => v.name),
  }, cfg.revision);
  return {
    ...pod,
    metadata: {
      ...meta,
      labels,
      annotations: {
        ...prom.annotations,
        [ANNOTATION.rev]: cfg.revision || 'default',
        ...defaultContainerAnnotations(annotations, spec.containers),
        [ANNOTATION.status]: status,
      },
    },
    spec: { ...spec, initContainers, containers, volumes: mergeVolumes(spec.volumes ?? [], added) },
  };
}

/** The uid and gid the proxy runs as, when its container says (an override may change Istio's 1337). */
function proxyUser(proxy: Container): { uid?: number; gid?: number } {
  const sc = proxy.securityContext ?? {};
  return {
    ...(typeof sc.runAsUser === 'number' ? { uid: sc.runAsUser } : {}),
    ...(typeof sc.runAsGroup === 'number' ? { gid: sc.runAsGroup } : {}),
  };
}
