/**
 * The control plane's Deployment and Service. Two replicas, each serving
 * its connected proxies from the same informers (see "Kubernetes" in
 * docs/ARCHITECTURE.md); /ready on the debug port takes a replica out of the
 * Service while its source is down. The pod runs as 1337 with nothing it
 * does not need: no capabilities, a read-only root file system, no token
 * beyond its own service account's.
 */
import { CONTROL_PLANE_SERVICE, CONTROL_PLANE_SERVICE_ACCOUNT, WEBHOOK_PORT } from '../kube/names.js';
import { partOf, type Manifest } from './manifest.js';

const labels = { app: 'istiod', istio: 'pilot', 'app.kubernetes.io/name': 'trellis-controlplane', ...partOf };
const selector = { app: 'istiod', istio: 'pilot' };

/** Port names as Istio's Service has them (the prefix tells Istio and Trellis the protocol). */
const PORTS = [
  { name: 'grpc-xds', port: 15010 },
  { name: 'https-dns', port: 15012 },
  { name: 'http-monitoring', port: 15014 },
  { name: 'https-webhook', port: WEBHOOK_PORT },
];

export function controlPlane(namespace: string, image: string, replicas: number): Manifest[] {
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: CONTROL_PLANE_SERVICE, namespace, labels },
      spec: {
        replicas,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels, annotations: { 'sidecar.istio.io/inject': 'false', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '15014' } },
          spec: {
            serviceAccountName: CONTROL_PLANE_SERVICE_ACCOUNT,
            securityContext: { runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337, fsGroup: 1337, seccompProfile: { type: 'RuntimeDefault' } },
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' } }],
              },
            },
            containers: [
              {
                name: 'discovery',
                image,
                imagePullPolicy: 'IfNotPresent',
                // The webhook serves the injector on istiod's 15017 with a certificate for the Service's names.
                args: ['controlplane', '--source', 'kubernetes', '--bind', '0.0.0.0', '--namespace', namespace, '--webhook-port', '15017', '--webhook-dns-names', `istiod.${namespace}.svc,istiod.${namespace}.svc.cluster.local`],
                env: [fieldEnv('POD_NAME', 'metadata.name'), fieldEnv('POD_NAMESPACE', 'metadata.namespace')],
                ports: PORTS.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
                readinessProbe: { httpGet: { path: '/ready', port: 15014 }, initialDelaySeconds: 1, periodSeconds: 3, timeoutSeconds: 5 },
                resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '1Gi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: CONTROL_PLANE_SERVICE, namespace, labels },
      spec: { type: 'ClusterIP', selector, ports: PORTS.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })) },
    },
  ];
}
