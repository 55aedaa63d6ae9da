/**
 * Kubernetes kinds. Only what Trellis acts on is checked in depth (ports,
 * selectors, addresses); the rest of a Pod or Service is listed by name so
 * that typos are still caught, and accepted as it is.
 */
import { dnsLabelProblem, portNumber, topLevel } from './common.js';
import { arr, bool, enumOf, int, intOrString, map, obj, opaque, req, str, stringMap, strings, type Issue, type ObjectSchema, type Schema } from './schema.js';

const protocol = () => enumOf('TCP', 'UDP', 'SCTP');

const servicePort = obj({
  name: str({ check: dnsLabelProblem }),
  port: req(portNumber()),
  targetPort: intOrString(),
  protocol: protocol(),
  appProtocol: str(),
  nodePort: int(0, 65535),
});

const serviceSpec = obj({
  type: enumOf('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
  clusterIP: str(),
  clusterIPs: strings(),
  ports: arr(servicePort),
  selector: stringMap(),
  externalName: str(),
  externalIPs: strings(),
  sessionAffinity: enumOf('None', 'ClientIP'),
  sessionAffinityConfig: opaque(),
  loadBalancerIP: str(),
  loadBalancerSourceRanges: strings(),
  loadBalancerClass: str(),
  externalTrafficPolicy: enumOf('Cluster', 'Local'),
  internalTrafficPolicy: enumOf('Cluster', 'Local'),
  healthCheckNodePort: int(0, 65535),
  publishNotReadyAddresses: bool(),
  ipFamilies: strings(),
  ipFamilyPolicy: str(),
  allocateLoadBalancerNodePorts: bool(),
  trafficDistribution: str(),
});

const containerPort = obj({
  name: str(),
  containerPort: req(portNumber()),
  protocol: protocol(),
  hostPort: int(0, 65535),
  hostIP: str(),
});

const unchecked = (...names: string[]): Record<string, Schema> => Object.fromEntries(names.map((n) => [n, opaque()]));

const container = obj({
  name: req(str()),
  image: str(),
  ports: arr(containerPort),
  ...unchecked(
    'command', 'args', 'workingDir', 'envFrom', 'env', 'resources', 'resizePolicy', 'restartPolicy', 'volumeMounts',
    'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath',
    'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty',
  ),
});

const podSpec = obj({
  containers: arr(container),
  initContainers: arr(container),
  serviceAccountName: str(),
  serviceAccount: str(),
  nodeName: str(),
  hostNetwork: bool(),
  ...unchecked(
    'volumes', 'ephemeralContainers', 'restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds',
    'dnsPolicy', 'nodeSelector', 'automountServiceAccountToken', 'hostPID', 'hostIPC', 'shareProcessNamespace',
    'securityContext', 'imagePullSecrets', 'hostname', 'subdomain', 'affinity', 'schedulerName', 'tolerations',
    'hostAliases', 'priorityClassName', 'priority', 'dnsConfig', 'readinessGates', 'runtimeClassName',
    'enableServiceLinks', 'preemptionPolicy', 'overhead', 'topologySpreadConstraints', 'setHostnameAsFQDN', 'os',
    'hostUsers', 'schedulingGates', 'resourceClaims', 'resources',
  ),
});

const endpoint = obj({
  addresses: req(strings()),
  conditions: obj({ ready: bool(), serving: bool(), terminating: bool() }),
  hostname: str(),
  targetRef: obj({ kind: str(), name: str(), namespace: str(), uid: str(), apiVersion: str(), resourceVersion: str(), fieldPath: str() }),
  nodeName: str(),
  zone: str(),
  hints: opaque(),
  deprecatedTopology: stringMap(),
});

/** A pod template's metadata: an object's, without a name (the controller names its pods). */
const templateMeta = obj({ name: str(), generateName: str(), namespace: str(), labels: stringMap(), annotations: stringMap(), creationTimestamp: opaque() });

/** The API server refuses a Deployment whose selector does not select its own template's pods. */
function selectorSelectsTemplate(spec: Record<string, unknown>): Issue[] {
  const want = (spec['selector'] as { matchLabels?: Record<string, unknown> } | undefined)?.matchLabels ?? {};
  const have = ((spec['template'] as { metadata?: { labels?: Record<string, unknown> } } | undefined)?.metadata?.labels) ?? {};
  const missing = Object.entries(want).filter(([k, v]) => have[k] !== v).map(([k, v]) => `${k}=${String(v)}`);
  return missing.length === 0 ? [] : [{ path: ['selector'], message: `selector does not match template labels (${missing.join(', ')} missing from spec.template.metadata.labels)` }];
}

const deploymentSpec = obj({
  replicas: int(0),
  selector: req(obj({ matchLabels: stringMap(), matchExpressions: opaque() })),
  template: req(obj({ metadata: templateMeta, spec: req(podSpec) })),
  ...unchecked('strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'),
}, selectorSelectsTemplate);

/** The API server refuses `data` values that are not base64; a typo here would be a certificate that never loads. */
const base64 = (v: string): string | undefined => (/^[A-Za-z0-9+/]*={0,2}$/.test(v.replace(/\s+/g, '')) && v.replace(/\s+/g, '').length % 4 === 0 ? undefined : 'not base64');

/** Top-level schemas of the Kubernetes kinds, by kind. */
export const kubernetesSchemas: Record<'Service' | 'Pod' | 'Deployment' | 'Namespace' | 'ServiceAccount' | 'Secret' | 'EndpointSlice', ObjectSchema> = {
  Service: topLevel({ spec: serviceSpec }),
  Pod: topLevel({ spec: podSpec }),
  Deployment: topLevel({ spec: deploymentSpec }),
  Namespace: topLevel({ spec: obj({ finalizers: strings() }) }),
  ServiceAccount: topLevel({ secrets: opaque(), imagePullSecrets: opaque(), automountServiceAccountToken: bool() }),
  Secret: topLevel({ type: str(), data: map(str({ check: base64 })), stringData: stringMap(), immutable: bool() }),
  EndpointSlice: topLevel({
    addressType: req(enumOf('IPv4', 'IPv6', 'FQDN')),
    endpoints: arr(endpoint),
    ports: arr(obj({ name: str(), port: int(0, 65535), protocol: protocol(), appProtocol: str() })),
  }),
};
