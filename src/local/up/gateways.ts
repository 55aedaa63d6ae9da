/**
 * Ingress gateways for `trellis up`, planned from the config (pure):
 *
 * - a workload (Deployment or bare Pod) whose labels satisfy the non-empty
 *   selector of an Istio Gateway is a gateway pod: it runs `trellis proxy`
 *   with a `router~` node id and those labels, and no app containers (an
 *   Istio gateway Deployment's only container is the proxy, image "auto");
 * - a Gateway whose selector Istio's default ingress gateway satisfies
 *   (istio=ingressgateway, as Istio's samples assume) and that no workload
 *   of the config matches gets that default: Deployment and Service
 *   istio-system/istio-ingressgateway, ports 80 → 8080 and 443 → 8443 as
 *   Istio's chart declares them;
 * - a gateway pod's listener ports are its servers' ports, moved to the
 *   numeric targetPort of a Service of its namespace that selects it and has
 *   that port (the control plane's rule, translate/gateway/merge.ts); `up`
 *   publishes each on the machine's 127.0.0.1 at the same number.
 */
import type { Deployment } from '../../config/deployment.js';
import { GATEWAY_NAME_LABEL, MESH_CONTROLLER, WAYPOINT_CLASS, type GatewayClass, type KubernetesGateway } from '../../config/gateway-api.js';
import { typeKey } from '../../config/objects.js';
import type { AnyObject, Gateway, Service, VirtualService } from '../../config/objects.js';
import { objectKey } from '../../config/objects.js';

export const DEFAULT_INGRESS = { namespace: 'istio-system', name: 'istio-ingressgateway' } as const;
export const DEFAULT_INGRESS_LABELS: Readonly<Record<string, string>> = { app: 'istio-ingressgateway', istio: 'ingressgateway' };

const satisfies = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const gatewaysOf = (objects: Iterable<AnyObject>) => [...objects].filter((o): o is Gateway => o.kind === 'Gateway');

/** Gateways that select these labels (an empty selector selects every pod in istiod, but never makes a pod a gateway here). */
export function gatewaysSelecting(objects: Iterable<AnyObject>, labels: Readonly<Record<string, string>>): Gateway[] {
  return gatewaysOf(objects).filter((g) => Object.keys(g.spec.selector ?? {}).length > 0 && satisfies(g.spec.selector!, labels));
}

function workloadLabels(o: AnyObject): Record<string, string> | undefined {
  if (o.kind === 'Deployment') return (o as Deployment).spec.template.metadata?.labels ?? {};
  if (o.kind === 'Pod') return o.metadata.labels ?? {};
  return undefined;
}

function defaultIngressObjects(): AnyObject[] {
  const { namespace, name } = DEFAULT_INGRESS;
  const labels = { ...DEFAULT_INGRESS_LABELS };
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, labels },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { serviceAccountName: `${name}-service-account`, containers: [] } } },
  } as unknown as Deployment;
  const service: Service = {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels },
    spec: {
      selector: labels,
      ports: [
        { name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP' },
        { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
      ],
    },
  };
  return [deployment, service];
}

/**
 * The config with Istio's default ingress gateway added when a Gateway
 * needs it and the config has no workload for it; `added` lists what was
 * added (the control plane must see the Service too).
 */
export function withDefaultIngress(objects: ReadonlyMap<string, AnyObject>): { objects: ReadonlyMap<string, AnyObject>; added: AnyObject[] } {
  const all = [...objects.values()];
  const wanted = gatewaysOf(all).some((g) => Object.keys(g.spec.selector ?? {}).length > 0 && satisfies(g.spec.selector!, DEFAULT_INGRESS_LABELS)
    && !all.some((o) => {
      const l = workloadLabels(o);
      return l !== undefined && satisfies(g.spec.selector!, l);
    }));
  if (!wanted) return { objects, added: [] };
  const added = defaultIngressObjects().filter((o) => !objects.has(objectKey(o)));
  const out = new Map(objects);
  for (const o of added) out.set(objectKey(o), o);
  return { objects: out, added };
}

/** The Gateway API Gateways of istiod's waypoint class (or a class of its mesh controller). */
function waypointGateways(objects: Iterable<AnyObject>): KubernetesGateway[] {
  const all = [...objects];
  const meshClasses = new Set(all.filter((o): o is GatewayClass => typeKey(o) === 'GatewayClass.gateway.networking.k8s.io' && (o as GatewayClass).spec?.controllerName === MESH_CONTROLLER).map((c) => c.metadata.name));
  return all.filter((o): o is KubernetesGateway => typeKey(o) === 'Gateway.gateway.networking.k8s.io'
    && ((o as KubernetesGateway).spec.gatewayClassName === WAYPOINT_CLASS || meshClasses.has((o as KubernetesGateway).spec.gatewayClassName)));
}

/**
 * What istiod's deployment controller makes for a waypoint Gateway NAME:
 * Deployment and Service NAME, labelled with the gateway name and
 * gateway.istio.io/managed, the pods kept out of ambient capture, the
 * Service on 15008 (HBONE) and 15021 (status).
 */
function waypointObjects(gw: KubernetesGateway): AnyObject[] {
  const name = gw.metadata.name;
  const namespace = gw.metadata.namespace ?? 'default';
  const labels = { [GATEWAY_NAME_LABEL]: name, 'gateway.istio.io/managed': 'istio.io-mesh-controller' };
  const podLabels = { ...labels, 'istio.io/dataplane-mode': 'none' };
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, labels },
    spec: { selector: { matchLabels: { [GATEWAY_NAME_LABEL]: name } }, template: { metadata: { labels: podLabels }, spec: { serviceAccountName: name, containers: [] } } },
  } as unknown as Deployment;
  const service: Service = {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels },
    spec: {
      selector: { [GATEWAY_NAME_LABEL]: name },
      ports: [
        { name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP' },
        { name: 'mesh', port: 15008, targetPort: 15008, protocol: 'TCP', appProtocol: 'all' },
      ],
    },
  };
  return [deployment, service];
}

/** The config with a Deployment and Service for each waypoint Gateway that has none; `added` lists them. */
export function withWaypoints(objects: ReadonlyMap<string, AnyObject>): { objects: ReadonlyMap<string, AnyObject>; added: AnyObject[] } {
  const added = waypointGateways(objects.values()).flatMap(waypointObjects).filter((o) => !objects.has(objectKey(o)));
  if (added.length === 0) return { objects, added };
  const out = new Map(objects);
  for (const o of added) out.set(objectKey(o), o);
  return { objects: out, added };
}

/** "namespace/name" of the waypoint Gateway a pod with these labels serves, if any. */
export function waypointServed(objects: Iterable<AnyObject>, namespace: string, labels: Readonly<Record<string, string>>): string | undefined {
  const name = labels[GATEWAY_NAME_LABEL];
  if (name === undefined) return undefined;
  const gw = waypointGateways(objects).find((g) => g.metadata.name === name && (g.metadata.namespace ?? 'default') === namespace);
  return gw ? `${namespace}/${name}` : undefined;
}

/** A server port as the gateway pod listens on it: a selecting Service's numeric targetPort for that port, else the number. */
function listenerPort(services: readonly Service[], number: number): number {
  for (const s of services) {
    const p = (s.spec.ports ?? []).find((x) => x.port === number);
    if (p && typeof p.targetPort === 'number') return p.targetPort;
  }
  return number;
}

export interface GatewayPort {
  /** Where the router listens in its pod, and where `up` publishes it on 127.0.0.1. */
  port: number;
  protocol: string;
  /** "ns/name" of the Gateway that declares it. */
  gateway: string;
}

/** The listener ports of a gateway pod (`namespace`, `labels`), sorted, one entry per port. */
export function gatewayPorts(objects: Iterable<AnyObject>, namespace: string, labels: Readonly<Record<string, string>>): GatewayPort[] {
  const all = [...objects];
  const services = all.filter((o): o is Service => o.kind === 'Service' && (o.metadata.namespace ?? 'default') === namespace
    && Object.keys(o.spec?.selector ?? {}).length > 0 && satisfies(o.spec.selector!, labels));
  const out = new Map<number, GatewayPort>();
  for (const g of gatewaysSelecting(all, labels)) {
    for (const s of g.spec.servers) {
      // A unix socket is not a port; the control plane does not serve it either.
      if (s.bind?.startsWith('unix://')) continue;
      const port = listenerPort(services, s.port.number);
      if (!out.has(port)) out.set(port, { port, protocol: s.port.protocol.toUpperCase(), gateway: `${g.metadata.namespace ?? 'default'}/${g.metadata.name}` });
    }
  }
  return [...out.values()].sort((a, b) => a.port - b.port);
}

/**
 * One line per VirtualService bound to a published Gateway, with a URL to
 * try: its first exact (else prefix) URI match — bookinfo's gives
 * "bookinfo at http://127.0.0.1:8080/productpage".
 */
export function gatewayUrls(objects: Iterable<AnyObject>, ports: readonly GatewayPort[]): string[] {
  const all = [...objects];
  const lines: string[] = [];
  for (const p of ports) {
    const scheme = p.protocol === 'HTTP' || p.protocol === 'HTTP2' ? 'http' : p.protocol === 'HTTPS' ? 'https' : undefined;
    if (scheme === undefined) continue;
    const [gwNs, gwName] = p.gateway.split('/') as [string, string];
    for (const vs of all.filter((o): o is VirtualService => o.kind === 'VirtualService')) {
      const ns = vs.metadata.namespace ?? 'default';
      if (!(vs.spec.gateways ?? []).some((g) => g === p.gateway || (g === gwName && ns === gwNs))) continue;
      const uris = (vs.spec.http ?? []).flatMap((r) => (r.match ?? []).map((m) => m.uri));
      const path = uris.find((u) => u?.exact)?.exact ?? uris.find((u) => u?.prefix)?.prefix ?? '/';
      lines.push(`${vs.metadata.name} at ${scheme}://127.0.0.1:${p.port}${path.startsWith('/') ? path : `/${path}`}`);
    }
  }
  return [...new Set(lines)];
}
