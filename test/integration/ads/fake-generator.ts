import { create } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { toResource, type ResourceSet, type XdsResource } from '../../../src/controlplane/wire/resource.js';
import type { Generator } from '../../../src/controlplane/translate/generator.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';

/** Fake translation output: per namespace, per type, named resources. */
export type FakeMesh = Record<string, Partial<Record<TypeUrl, XdsResource[]>>>;

export function cluster(name: string, timeoutSeconds = 1): XdsResource {
  return toResource(ClusterSchema, name, create(ClusterSchema, { name, connectTimeout: create(DurationSchema, { seconds: BigInt(timeoutSeconds) }) }));
}

export function listener(name: string, port = 80): XdsResource {
  return toResource(ListenerSchema, name, create(ListenerSchema, { name, statPrefix: `p${port}` }));
}

export function route(name: string, domains: string[]): XdsResource {
  const vh = create(VirtualHostSchema, { name: `${name}-vh`, domains });
  return toResource(RouteConfigurationSchema, name, create(RouteConfigurationSchema, { name, virtualHosts: [vh] }));
}

export function endpoints(clusterName: string): XdsResource {
  return toResource(ClusterLoadAssignmentSchema, clusterName, create(ClusterLoadAssignmentSchema, { clusterName }));
}

/**
 * A Generator over a FakeMesh: wildcard requests get the namespace's whole
 * set (the same Map object each time, as a memoising generator would), named
 * requests get the existing subset. Counts calls so tests can see the work.
 */
export class FakeGenerator implements Generator {
  readonly #sets = new Map<string, Map<string, XdsResource>>();
  calls = 0;
  failOn: TypeUrl | undefined;

  constructor(readonly mesh: FakeMesh) {
    for (const [ns, types] of Object.entries(mesh)) {
      for (const [type, list] of Object.entries(types)) this.#sets.set(`${ns}|${type}`, new Map(list!.map((r) => [r.name, r])));
    }
  }

  generate(node: ProxyNode, typeUrl: TypeUrl, names: ReadonlySet<string> | undefined): ResourceSet {
    this.calls++;
    if (typeUrl === this.failOn) throw new Error('fake generator failure');
    const all = this.#sets.get(`${node.namespace}|${typeUrl}`) ?? new Map<string, XdsResource>();
    if (names === undefined) return all;
    const out = new Map<string, XdsResource>();
    for (const n of names) {
      const r = all.get(n);
      if (r) out.set(n, r);
    }
    return out;
  }
}

export const { Cluster: CDS, Listener: LDS, RouteConfiguration: RDS, ClusterLoadAssignment: EDS } = TypeUrl;
