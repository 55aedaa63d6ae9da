/**
 * The mesh config of the two-sidecar test, as Kubernetes/Istio YAML: what a
 * `kubectl get -o yaml` of a real cluster would show for a Service "web"
 * (selecting the server pod), both pods with their addresses, and a
 * VirtualService whose header rules make the mesh's routing visible.
 */
export const NAMESPACE = 'default';
export const SERVICE = { name: 'web', clusterIp: '10.96.0.100', port: 80, targetPort: 8080 };
/** Added by the client's sidecar (VirtualService headers) to the request and to the response. */
export const ROUTE_HEADERS = { request: 'x-trellis-e2e-request', response: 'x-trellis-e2e-route', value: 'web-vs' };

export interface PodSpec {
  name: string;
  ip: string;
  app: string;
  /** The `version` label (DestinationRule subsets select on it); v1 by default. */
  version?: string;
  /** The label Istio's injector adds to a pod with a sidecar: its clients' auto mTLS sends it mTLS. */
  tlsModeIstio?: boolean;
  /** Further labels (topology labels for locality load balancing). */
  labels?: Record<string, string>;
}

function pod(p: PodSpec): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${p.name}
  namespace: ${NAMESPACE}
  labels:
    app: ${p.app}
    version: ${p.version ?? 'v1'}
${p.tlsModeIstio ? '    security.istio.io/tlsMode: istio\n' : ''}${Object.entries(p.labels ?? {}).map(([k, v]) => `    ${k}: ${v}\n`).join('')}spec:
  serviceAccountName: ${p.app}
  containers:
    - name: ${p.app}
      image: trellis/e2e
status:
  phase: Running
  podIP: ${p.ip}
  conditions:
    - type: Ready
      status: "True"
`;
}

/** The VirtualService "web" with the given `http:` entries (YAML indented as list items of `http`). */
export function virtualService(http: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${SERVICE.name}
  namespace: ${NAMESPACE}
spec:
  hosts:
    - ${SERVICE.name}
  http:
${http}`;
}

/** One entry of a route's destination list: service web, optionally a subset and a weight. */
export function routeTo(subset?: string, weight?: number): string {
  return `        - destination:
            host: ${SERVICE.name}
${subset === undefined ? '' : `            subset: ${subset}\n`}            port:
              number: ${SERVICE.port}
${weight === undefined ? '' : `          weight: ${weight}\n`}`;
}

/** Files (name → YAML) for the control plane's --config-dir; `more` are further pods (a second server version). */
export function meshConfig(server: PodSpec, client: PodSpec, more: PodSpec[] = []): Record<string, string> {
  const service = `apiVersion: v1
kind: Service
metadata:
  name: ${SERVICE.name}
  namespace: ${NAMESPACE}
spec:
  clusterIP: ${SERVICE.clusterIp}
  selector:
    app: ${server.app}
  ports:
    - name: http
      port: ${SERVICE.port}
      targetPort: ${SERVICE.targetPort}
`;
  const routing = virtualService(`    - headers:
        request:
          set:
            ${ROUTE_HEADERS.request}: ${ROUTE_HEADERS.value}
        response:
          set:
            ${ROUTE_HEADERS.response}: ${ROUTE_HEADERS.value}
      route:
${routeTo()}`);
  return { 'web.yaml': service, 'pods.yaml': [server, client, ...more].map(pod).join('---\n'), 'routing.yaml': routing };
}
