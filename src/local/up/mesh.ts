/**
 * The running mesh's pods and Services, kept equal to the config: each new
 * config state is reconciled (workloads.ts) into pods to create and remove,
 * one reconcile at a time; readiness and Service changes re-route Services
 * (kube-proxy's part) and rewrite each pod's names. The controllers and
 * kubelet of a one-node cluster, in one object.
 */
import type { AnyObject, Service } from '../../config/objects.js';
import { errorMessage } from '../../errors.js';
import { logger } from '../../log.js';
import { serviceBackends, type EndpointPod } from './endpoints.js';
import { injectedMetadata, injectionDecision } from './injection.js';
import { RunningPod, type PodContext, type PodPlan } from './pod.js';
import type { PodSnapshot } from './pod-objects.js';
import { randomSuffix } from './pod-names.js';
import { serviceEnv } from './service-env.js';
import { desiredWorkloads, namespaceLabels, reconcile, type PodToCreate, type Workload } from './workloads.js';
import { gatewayPorts, gatewaysSelecting, gatewayUrls, waypointServed } from './gateways.js';
import { templateHash } from './pod-names.js';
import { isAmbientPod } from './ambient/enrollment.js';

const log = logger('up');

export type MeshContext = Omit<PodContext, 'serviceEnv' | 'changed'> & {
  /** A pod changed or a reconcile finished: publish. `event` is for the status's event list. */
  changed: (event?: string) => void;
};

export class Mesh {
  readonly #ctx: MeshContext;
  readonly #pods = new Map<string, RunningPod>();
  #objects: ReadonlyMap<string, AnyObject> = new Map();
  #queue: Promise<void> = Promise.resolve();
  #routing: Promise<void> | undefined;
  #routeAgain = false;
  #routesKey = '';
  #stopped = false;

  constructor(ctx: MeshContext) {
    this.#ctx = ctx;
  }

  pods(): RunningPod[] {
    return [...this.#pods.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  pod(key: string): RunningPod | undefined {
    return this.#pods.get(key);
  }

  services(): Service[] {
    return [...this.#objects.values()].filter((o): o is Service => o.kind === 'Service');
  }

  /** Takes a new config state (with cluster IPs) and reconciles; resolves when this reconcile is done. */
  apply(objects: ReadonlyMap<string, AnyObject>): Promise<void> {
    this.#objects = objects;
    this.#queue = this.#queue.then(() => this.#reconcile()).catch((err: unknown) => log.error('reconcile failed', { error: errorMessage(err) }));
    return this.#queue;
  }

  async #reconcile(): Promise<void> {
    if (this.#stopped) return;
    const objects = this.#objects;
    const running = [...this.#pods.values()].filter((p) => p.phase !== 'Terminating').map((p) => p.plan);
    const changes = reconcile(desiredWorkloads(objects.values()).map((w) => this.#gatewayHashed(w, objects)), running, randomSuffix);
    const nsLabels = namespaceLabels(objects.values());
    const removing = changes.remove.map((k) => this.#pods.get(k)).filter((p): p is RunningPod => p !== undefined);
    // A bare Pod replaced under the same name must be gone before its successor takes the name.
    await Promise.all(removing.map(async (p) => {
      await p.stop();
      this.#pods.delete(p.key);
      this.#ctx.changed(`pod ${p.key} removed`);
    }));
    const created = changes.create.map((c) => this.#podFor(c, nsLabels.get(c.namespace) ?? {}));
    for (const p of created) this.#pods.set(p.key, p);
    if (created.length > 0 || removing.length > 0) this.#ctx.changed();
    await Promise.all(created.map((p) => p.start()));
    this.#route();
  }

  /**
   * A gateway's pods publish its listener ports when they start: a change of those ports is a new
   * pod, as a changed template is (the ports join the hash).
   */
  #gatewayHashed(w: Workload, objects: ReadonlyMap<string, AnyObject>): Workload {
    const labels = w.template.metadata?.labels ?? {};
    if (gatewaysSelecting(objects.values(), labels).length === 0) return w;
    return { ...w, hash: templateHash({ template: w.template, ports: gatewayPorts(objects.values(), w.namespace, labels) }) };
  }

  #podFor(c: PodToCreate, nsLabels: Record<string, string>): RunningPod {
    const t = c.workload.template;
    const labels: Record<string, string> = { ...(t.metadata?.labels ?? {}) };
    if (c.owner.kind === 'Deployment') labels['pod-template-hash'] = c.owner.hash;
    const annotations: Record<string, string> = { ...(t.metadata?.annotations ?? {}) };
    const gateways = gatewaysSelecting(this.#objects.values(), labels);
    const ports = gateways.length > 0 ? gatewayPorts(this.#objects.values(), c.namespace, labels) : [];
    const waypoint = waypointServed(this.#objects.values(), c.namespace, labels);
    const gateway = waypoint ? { ports: [], urls: [], waypoint: true } : gateways.length > 0 ? { ports, urls: gatewayUrls(this.#objects.values(), ports) } : undefined;
    // A gateway pod is Istio's gateway injection template: the proxy alone, as a router (or a waypoint).
    const injection = waypoint
      ? { sidecar: true, reason: `waypoint for ${waypoint}` }
      : gateway
      ? { sidecar: true, reason: `ingress gateway for ${gateways.map((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`).join(', ')}` }
      : injectionDecision({ labels, annotations, spec: t.spec, namespace: c.namespace, namespaceLabels: nsLabels });
    if (injection.sidecar) {
      // Sidecars with capture listen for HBONE (ISTIO_META_ENABLE_HBONE, pod.ts); loopback ones cannot (15008 on a shared address).
      const extra = injectedMetadata(labels, c.owner.name, !gateway && this.#ctx.network.mode === 'netns');
      Object.assign(labels, extra.labels);
      Object.assign(annotations, extra.annotations);
    }
    const ambient = !injection.sidecar && !gateway && isAmbientPod({ namespace: c.namespace, name: c.name, labels, annotations }, nsLabels);
    const plan: PodPlan = { ...c, labels, annotations, spec: t.spec, injection, ambient, workloadName: c.owner.name, ...(gateway ? { gateway } : {}) };
    return new RunningPod(plan, {
      ...this.#ctx,
      serviceEnv: (addr) => {
        const inNs = this.services().filter((s) => (s.metadata.namespace ?? 'default') === c.namespace);
        const net = this.#ctx.network;
        return t.spec.enableServiceLinks === false ? {} : serviceEnv(inNs, (s) => net.serviceHost(addr, s.spec.clusterIP!), (p) => net.servicePort(p));
      },
      changed: (pod, event) => {
        this.#ctx.changed(event ? `${pod.key}: ${event}` : undefined);
        this.#route();
      },
    });
  }

  /** Re-routes Services when their backends may have changed; coalesces bursts and never overlaps. */
  #route(): void {
    if (this.#stopped) return;
    if (this.#routing) {
      this.#routeAgain = true;
      return;
    }
    this.#routing = this.#routeOnce()
      .catch((err: unknown) => log.error('service routing failed', { error: errorMessage(err) }))
      .finally(() => {
        this.#routing = undefined;
        if (this.#routeAgain) {
          this.#routeAgain = false;
          this.#route();
        }
      });
  }

  async #routeOnce(): Promise<void> {
    const pods = this.pods().filter((p) => p.address !== undefined && p.phase !== 'Terminating');
    const endpointPods: EndpointPod[] = pods.map((p) => ({
      namespace: p.plan.namespace,
      labels: p.plan.labels,
      // A sidecar's pod is reached at the pod address (its inbound listeners); without capture that is where the proxy listens.
      ip: p.address!.ip,
      ready: p.ready,
      ports: Object.fromEntries((p.plan.spec.containers ?? []).flatMap((c) => (c.ports ?? []).flatMap((x) => (x.name ? [[x.name, x.containerPort]] : [])))),
    }));
    const services = this.services();
    const backends = serviceBackends(services, endpointPods);
    const key = JSON.stringify([backends.map((b) => [b.service.metadata.namespace, b.service.metadata.name, b.service.spec.clusterIP, b.port, b.backends]), pods.map((p) => [p.key, p.address!.ip])]);
    if (key === this.#routesKey) return;
    this.#routesKey = key;
    await this.#ctx.network.setServices(backends, pods.map((p) => ({ pod: p.address!, sidecar: p.plan.injection.sidecar })));
    for (const p of pods) this.#ctx.network.setHosts(p.address!, hostEntries(services, p.plan.namespace));
  }

  snapshots(): PodSnapshot[] {
    return this.pods().map((p) => ({
      namespace: p.plan.namespace,
      name: p.plan.name,
      uid: p.uid,
      createdAt: p.createdAt.toISOString(),
      labels: p.plan.labels,
      annotations: p.plan.annotations,
      spec: p.plan.spec,
      owner: p.plan.owner,
      sidecar: p.plan.injection.sidecar,
      ...(p.plan.ambient ? { ambient: true as const } : {}),
      nodeName: this.#ctx.network.nodeName,
      ...(p.address ? { ip: p.address.ip } : {}),
      phase: p.phase,
      ...(p.message ? { message: p.message } : {}),
      ...(p.startedAt ? { startedAt: p.startedAt.toISOString() } : {}),
      containers: p.containers.map((c) => ({ name: c.name, state: c.state })),
      ...(p.plan.injection.sidecar ? { proxy: p.proxyState } : {}),
      ready: p.ready,
    }));
  }

  /** Stops every pod (in parallel) and no longer reconciles. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#queue.catch(() => undefined);
    await this.#routing?.catch(() => undefined);
    await Promise.all([...this.#pods.values()].map((p) => p.stop()));
    this.#pods.clear();
  }
}

/** What cluster DNS would answer: every Service by its FQDN and partial names, short names in the pod's namespace. */
export function hostEntries(services: readonly Service[], podNamespace: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of services) {
    const ip = s.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const ns = s.metadata.namespace ?? 'default';
    const n = s.metadata.name;
    for (const h of [`${n}.${ns}.svc.cluster.local`, `${n}.${ns}.svc`, `${n}.${ns}`]) out[h] = ip;
    if (ns === podNamespace) out[n] = ip;
  }
  return out;
}
