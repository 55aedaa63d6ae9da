/**
 * The Istio CRDs Trellis serves: exactly the kinds the Kubernetes source
 * watches (resources.ts), at the versions Istio serves them (objects.ts'
 * kindVersions: v1 stored, the older versions served with the same schema,
 * as Istio's CRDs do — no conversion webhook). Their schema keeps any spec:
 * the control plane validates every object with the same validators as a
 * file and reports a bad one as a config problem (last good version kept),
 * so the API server need not know Istio's field list, and a newer Istio
 * field is reported by Trellis rather than silently dropped by pruning.
 */
import { kindVersions } from '../config/objects.js';
import { watchedResources } from '../controlplane/sources/kubernetes/resources.js';
import { partOf, type Manifest } from './manifest.js';

/** kubectl short names, as Istio's CRDs declare them. */
const SHORT_NAMES: Readonly<Record<string, string[]>> = {
  VirtualService: ['vs'],
  DestinationRule: ['dr'],
  ServiceEntry: ['se'],
  WorkloadEntry: ['we'],
  Gateway: ['gw'],
  PeerAuthentication: ['pa'],
  AuthorizationPolicy: ['ap'],
  RequestAuthentication: ['ra'],
  Telemetry: ['telemetry'],
};

const openSchema = {
  openAPIV3Schema: {
    type: 'object',
    properties: {
      spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  },
};

export const istioCrdResources = watchedResources.filter((r) => r.crd);

export function istioCrds(): Manifest[] {
  return istioCrdResources.map((r) => {
    const versions = kindVersions[r.kind].map((v) => v.split('/')[1]!);
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${r.plural}.${r.group}`, labels: partOf },
      spec: {
        group: r.group,
        names: {
          kind: r.kind,
          listKind: `${r.kind}List`,
          plural: r.plural,
          singular: r.kind.toLowerCase(),
          ...(SHORT_NAMES[r.kind] ? { shortNames: SHORT_NAMES[r.kind] } : {}),
          categories: ['istio-io', `${r.group.split('.')[0]}-istio-io`],
        },
        scope: 'Namespaced',
        versions: versions.map((name) => ({ name, served: true, storage: name === r.version, schema: openSchema, subresources: { status: {} } })),
      },
    };
  });
}
