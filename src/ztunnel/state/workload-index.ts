/**
 * The workload and service index the data path looks things up in, rebuilt
 * whole on each WDS/WADS update (the sets are a node's worth: small):
 * workloads by uid and by IP, services by VIP with their endpoints (the
 * workloads whose services map names them), policies by key; a destination
 * with a waypoint leads to that waypoint (waypoint.ts). Pure: no I/O.
 */
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { applicable } from '../policy/evaluate.js';
import type { AddressInfo, PortMapping, ServiceInfo, WorkloadInfo } from './model.js';
import { waypointHop, type WaypointHop } from './waypoint.js';

/** Where an outbound connection's original destination leads. */
export type OutboundTarget =
  | { kind: 'workload'; workload: WorkloadInfo; port: number }
  | { kind: 'service'; service: ServiceInfo; workload: WorkloadInfo; port: number }
  | WaypointHop
  | { kind: 'no-endpoint'; service?: ServiceInfo; reason: string }
  | { kind: 'passthrough' };

export class WorkloadIndex {
  readonly workloads = new Map<string, WorkloadInfo>();
  readonly services = new Map<string, ServiceInfo>();
  readonly policies = new Map<string, CompiledPolicy>();
  readonly #byIp = new Map<string, WorkloadInfo>();
  /** NAMESPACE/NAME → workload: looked up per connection (the served pod's own Workload). */
  readonly #byName = new Map<string, WorkloadInfo>();
  readonly #byVip = new Map<string, ServiceInfo>();
  /** NAMESPACE/HOSTNAME → the workloads whose services map names it (computed once per update, not per connection). */
  readonly #endpoints = new Map<string, WorkloadInfo[]>();
  #roundRobin = 0;

  setAddresses(all: Iterable<AddressInfo>): void {
    this.workloads.clear();
    this.services.clear();
    this.#byIp.clear();
    this.#byName.clear();
    this.#byVip.clear();
    this.#endpoints.clear();
    for (const a of all) {
      if (a.kind === 'workload') {
        this.workloads.set(a.uid, a);
        this.#byName.set(`${a.namespace}/${a.name}`, a);
        for (const key of a.services.keys()) {
          const list = this.#endpoints.get(key);
          if (list) list.push(a);
          else this.#endpoints.set(key, [a]);
        }
        for (const ip of a.addresses) this.#byIp.set(ip, a);
      } else {
        this.services.set(a.key, a);
        for (const ip of a.vips) this.#byVip.set(ip, a);
      }
    }
  }

  setPolicies(all: Iterable<CompiledPolicy>): void {
    this.policies.clear();
    for (const p of all) this.policies.set(p.key, p);
  }

  workloadByIp(ip: string): WorkloadInfo | undefined {
    return this.#byIp.get(ip);
  }

  /** The pods ZDS names by namespace/name (ZDS carries the Kubernetes uid, the workload API its own). */
  workloadByName(namespace: string, name: string): WorkloadInfo | undefined {
    return this.#byName.get(`${namespace}/${name}`);
  }

  /** The workloads that serve a service (healthy or not). */
  endpointsOf(serviceKey: string): readonly WorkloadInfo[] {
    return this.#endpoints.get(serviceKey) ?? [];
  }

  /** A served pod's Workload. */
  workloadOf(pod: { namespace: string; name: string }): WorkloadInfo | undefined {
    return this.workloadByName(pod.namespace, pod.name);
  }

  /** The policies that apply to a destination workload. */
  policiesFor(w: WorkloadInfo): CompiledPolicy[] {
    return applicable(this.policies.values(), { namespace: w.namespace, policies: w.authorizationPolicies });
  }

  /** The service a NAMESPACE/HOSTNAME names, then a workload or service by IP (a waypoint's GatewayAddress). */
  byHostname(namespace: string, hostname: string): ServiceInfo | undefined {
    return this.services.get(`${namespace}/${hostname}`);
  }

  byAddress(ip: string): AddressInfo | undefined {
    return this.#byIp.get(ip) ?? this.#byVip.get(ip);
  }

  /** One of `n` choices, in turn (the data path's only load balancing). */
  nextIndex(n: number): number {
    return this.#roundRobin++ % n;
  }

  /**
   * The original destination resolved as ztunnel does: a destination with a waypoint → that waypoint
   * (unless the caller is that waypoint); a workload's IP → that workload; a service VIP → one of its
   * healthy HBONE endpoints (round robin), the port mapped to the endpoint's target port; anything else
   * is outside the mesh (passthrough).
   */
  resolve(ip: string, port: number, source?: WorkloadInfo): OutboundTarget {
    const w = this.#byIp.get(ip);
    if (w?.waypoint) return waypointHop(this, w.waypoint, { host: ip, port }, { workload: w }, source) ?? { kind: 'workload', workload: w, port };
    if (w) return { kind: 'workload', workload: w, port };
    const s = this.#byVip.get(ip);
    if (!s) return { kind: 'passthrough' };
    const hop = s.waypoint ? waypointHop(this, s.waypoint, { host: ip, port }, { service: s }, source) : undefined;
    if (hop) return hop;
    const sp = s.ports.find((p) => p.servicePort === port);
    if (!sp) return { kind: 'no-endpoint', service: s, reason: `service ${s.key} has no port ${port}` };
    const endpoints: { w: WorkloadInfo; port: number }[] = [];
    for (const e of this.endpointsOf(s.key)) {
      if (!e.healthy) continue;
      const mapping = e.services.get(s.key)?.find((p: PortMapping) => p.servicePort === port);
      if (!mapping) continue;
      endpoints.push({ w: e, port: mapping.targetPort || sp.targetPort || port });
    }
    if (endpoints.length === 0) return { kind: 'no-endpoint', service: s, reason: `service ${s.key} has no ready endpoint for port ${port}` };
    const pick = endpoints[this.nextIndex(endpoints.length)]!;
    return { kind: 'service', service: s, workload: pick.w, port: pick.port };
  }
}
