import type { EndpointSlice, ServiceEntry, WorkloadEntrySpec } from '../../config/objects.js';
import type { MeshEndpoint, MeshService, MeshServicePort, Workload } from './model.js';
import type { WorkloadIndex } from './workloads.js';
import { isEmpty, selectorMatches } from './labels.js';

/** Endpoints by hostname, then by service port; each list sorted by address and port. */
export type EndpointIndex = Map<string, Map<number, MeshEndpoint[]>>;

export interface EndpointInputs {
  workloads: WorkloadIndex;
  /** Readiness of pods by "ns/name" (WorkloadEntries are always ready). */
  podReady: ReadonlyMap<string, boolean>;
  /** EndpointSlices by "ns/service-name" (label kubernetes.io/service-name). */
  slices: ReadonlyMap<string, EndpointSlice[]>;
  /** ServiceEntry objects by "ns/name", for their inline endpoints. */
  serviceEntries: ReadonlyMap<string, ServiceEntry>;
  /** externalName of ExternalName Services, by hostname. */
  externalNames: ReadonlyMap<string, string>;
}

function add(index: EndpointIndex, hostname: string, ep: MeshEndpoint): void {
  let byPort = index.get(hostname);
  if (!byPort) index.set(hostname, (byPort = new Map()));
  let list = byPort.get(ep.servicePort);
  if (!list) byPort.set(ep.servicePort, (list = []));
  list.push(ep);
}

function fromWorkload(w: Workload, port: number, servicePort: number, ready: boolean): MeshEndpoint {
  return {
    address: w.address,
    port,
    servicePort,
    labels: w.labels,
    serviceAccount: w.serviceAccount,
    namespace: w.namespace,
    ready,
    locality: w.locality,
    workload: `${w.kind}/${w.namespace}/${w.name}`,
    tlsMode: tlsModeOf(w.labels),
  };
}

/** Injection labels a sidecar's pod security.istio.io/tlsMode: istio; a WorkloadEntry carries it in its labels. */
export function tlsModeOf(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  return labels?.['security.istio.io/tlsMode'];
}

/** A targetPort on a workload: a number as is, a name through the workload's named ports. */
export function resolveTargetPort(p: MeshServicePort, w: Workload | undefined): number | undefined {
  if (typeof p.targetPort === 'number') return p.targetPort;
  const n = Number(p.targetPort);
  if (Number.isInteger(n) && p.targetPort !== '') return n;
  return w?.ports?.[p.targetPort];
}

function isReady(w: Workload, inputs: EndpointInputs): boolean {
  return w.kind === 'WorkloadEntry' || (inputs.podReady.get(`${w.namespace}/${w.name}`) ?? false);
}

function fromSlices(index: EndpointIndex, svc: MeshService, slices: EndpointSlice[], inputs: EndpointInputs): void {
  for (const slice of slices) {
    // FQDN slices carry host names, which EDS cannot express.
    if (slice.addressType === 'FQDN') continue;
    for (const sp of slice.ports ?? []) {
      const port = svc.ports.find((p) => p.name === (sp.name ?? ''));
      if (!port || sp.port === undefined) continue;
      for (const e of slice.endpoints ?? []) {
        const ready = e.conditions?.ready ?? true;
        for (const address of e.addresses) {
          const ref = e.targetRef;
          const w = ref?.kind === 'Pod' && ref.name
            ? inputs.workloads.byName.get(`${ref.namespace ?? svc.namespace}/${ref.name}`)
            : inputs.workloads.byIp.get(address);
          if (w) {
            add(index, svc.hostname, { ...fromWorkload(w, sp.port, port.port, ready), address, locality: w.locality ?? zoneLocality(e.zone) });
          } else {
            add(index, svc.hostname, { address, port: sp.port, servicePort: port.port, labels: {}, namespace: svc.namespace, ready, locality: zoneLocality(e.zone) });
          }
        }
      }
    }
  }
}

function zoneLocality(zone: string | undefined): string | undefined {
  return zone ? `/${zone}` : undefined;
}

/** Selected workloads in the service's namespace (Pods for Services; Pods and WorkloadEntries for ServiceEntries). */
function fromSelector(index: EndpointIndex, svc: MeshService, inputs: EndpointInputs, kinds: ReadonlySet<string>): void {
  if (isEmpty(svc.selector)) return;
  for (const w of inputs.workloads.byNamespace.get(svc.namespace) ?? []) {
    if (!kinds.has(w.kind) || !selectorMatches(svc.selector, w.labels)) continue;
    const ready = isReady(w, inputs);
    for (const p of svc.ports) {
      const target = resolveTargetPort(p, w);
      if (target !== undefined) add(index, svc.hostname, fromWorkload(w, target, p.port, ready));
    }
  }
}

function fromInline(index: EndpointIndex, svc: MeshService, eps: WorkloadEntrySpec[]): void {
  for (const e of eps) {
    if (!e.address) continue;
    for (const p of svc.ports) {
      const port = e.ports?.[p.name] ?? (typeof p.targetPort === 'number' ? p.targetPort : p.port);
      add(index, svc.hostname, {
        address: e.address,
        port,
        servicePort: p.port,
        labels: e.labels ?? {},
        serviceAccount: e.serviceAccount,
        namespace: svc.namespace,
        ready: true,
        locality: e.locality,
        weight: e.weight,
        tlsMode: tlsModeOf(e.labels),
      });
    }
  }
}

const podKinds: ReadonlySet<string> = new Set(['Pod']);
const allKinds: ReadonlySet<string> = new Set(['Pod', 'WorkloadEntry']);

/** Builds every service's endpoints. Cost is linear in slices plus (services × workloads) per namespace. */
export function buildEndpoints(services: readonly MeshService[], inputs: EndpointInputs): EndpointIndex {
  const index: EndpointIndex = new Map();
  for (const svc of services) {
    const externalName = inputs.externalNames.get(svc.hostname);
    if (externalName !== undefined) {
      fromInline(index, svc, [{ address: externalName }]);
    } else if (svc.origin === 'Service') {
      const slices = inputs.slices.get(`${svc.namespace}/${svc.name}`);
      if (slices && slices.length > 0) fromSlices(index, svc, slices, inputs);
      else fromSelector(index, svc, inputs, podKinds);
    } else {
      const se = inputs.serviceEntries.get(`${svc.namespace}/${svc.name}`);
      if (se?.spec.endpoints && se.spec.endpoints.length > 0) fromInline(index, svc, se.spec.endpoints);
      else fromSelector(index, svc, inputs, allKinds);
    }
  }
  for (const byPort of index.values()) {
    for (const [port, list] of byPort) {
      list.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
      byPort.set(port, dedupe(list));
    }
  }
  return index;
}

/** The same address:port in two slices (during a slice rebalance) is one endpoint; ready wins. Input sorted. */
function dedupe(list: MeshEndpoint[]): MeshEndpoint[] {
  const out: MeshEndpoint[] = [];
  for (const ep of list) {
    const last = out[out.length - 1];
    if (last && last.address === ep.address && last.port === ep.port) {
      if (!last.ready && ep.ready) out[out.length - 1] = ep;
      continue;
    }
    out.push(ep);
  }
  return out;
}

/** Whether two services' endpoints (by service port) say the same: what an EDS answer is built from. */
export function sameEndpoints(a: ReadonlyMap<number, readonly MeshEndpoint[]> | undefined, b: ReadonlyMap<number, readonly MeshEndpoint[]> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.size !== b.size) return false;
  for (const [port, list] of a) {
    const other = b.get(port);
    if (!other || other.length !== list.length) return false;
    for (let i = 0; i < list.length; i++) if (!sameEndpoint(list[i]!, other[i]!)) return false;
  }
  return true;
}

const same = (a: unknown, b: unknown) => a === b;
/** Every field, so that a field added to MeshEndpoint does not compile until it is compared. */
const endpointFields: { readonly [K in keyof Required<MeshEndpoint>]: (a: MeshEndpoint[K], b: MeshEndpoint[K]) => boolean } = {
  address: same, port: same, servicePort: same, labels: sameLabels, serviceAccount: same, namespace: same,
  ready: same, locality: same, weight: same, workload: same, tlsMode: same,
};
const fieldNames = Object.keys(endpointFields) as (keyof MeshEndpoint)[];

function sameEndpoint(a: MeshEndpoint, b: MeshEndpoint): boolean {
  return fieldNames.every((k) => (endpointFields[k] as (x: unknown, y: unknown) => boolean)(a[k], b[k]));
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
