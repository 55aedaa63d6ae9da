/**
 * The servers of the Gateways a router proxy serves, merged into listener
 * ports as istiod's mergeGateways does (pilot/pkg/model/gateway.go):
 *
 * - a server's port is the Service port of the gateway pod; when a Service
 *   selecting the pod has that port, the listener is on its target port
 *   (bookinfo's port 80 → 0.0.0.0_8080), else on the number itself;
 * - plain-text HTTP servers on one port share one route configuration,
 *   "http.PORT"; a plain-text port takes no second protocol;
 * - each HTTPS server that terminates TLS has its own, "https.NUMBER.PORTNAME.GATEWAY.NS",
 *   and its own filter chain matched by SNI; a host already served over TLS
 *   on the same port and bind is refused for the later server;
 * - hosts "./h" become "GATEWAY_NS/h", "*\/h" becomes "h".
 *
 * Servers Trellis cannot serve (see unsupportedServer) are left out, with a
 * log line; the analyzer reports them with their file and line.
 */
import type { Gateway, GatewayServer } from '../../../config/objects.js';
import { logger } from '../../../log.js';
import type { MeshModel, Protocol } from '../../registry/model.js';
import { parseProtocol } from '../../registry/protocol.js';

const log = logger('translate');

/** One server of one Gateway, with its hosts in canonical form. */
export interface ServerRef {
  /** "ns/name" of its Gateway. */
  readonly gateway: string;
  readonly gatewayNamespace: string;
  readonly server: GatewayServer;
  readonly protocol: Protocol;
  /** Hosts with "./" and "*\/" resolved (namespace-qualified hosts keep "ns/"). */
  readonly hosts: readonly string[];
  /** The route configuration of an HTTP or TLS-terminating HTTPS server. */
  readonly routeName?: string;
}

/** One listener: a port and the address it binds. */
export interface MergedPort {
  readonly port: number;
  readonly bind: string;
  /** Plain text (HTTP or TCP: one protocol on the port) or TLS (HTTPS/TLS servers told apart by SNI). */
  readonly plain: boolean;
  readonly servers: ServerRef[];
}

export interface MergedGateway {
  readonly ports: readonly MergedPort[];
  /** Route configuration name → the servers whose virtual hosts it holds. */
  readonly serversByRoute: ReadonlyMap<string, readonly ServerRef[]>;
  /** Every "ns/name" merged: the gateways VirtualServices may bind to. */
  readonly gatewayNames: ReadonlySet<string>;
}

const isHttp = (p: Protocol) => p === 'HTTP' || p === 'HTTP2' || p === 'GRPC';
const isTls = (p: Protocol) => p === 'HTTPS' || p === 'TLS';
const passthrough = (s: GatewayServer) => (s.tls?.mode ?? 'PASSTHROUGH') === 'PASSTHROUGH' || s.tls?.mode === 'AUTO_PASSTHROUGH';

/** Why a server cannot be served by Trellis, or undefined. The analyzer reports the same fields. */
export function unsupportedServer(s: GatewayServer): string | undefined {
  const mode = s.tls?.mode;
  if (mode === 'ISTIO_MUTUAL' || mode === 'AUTO_PASSTHROUGH') return `TLS mode ${mode} is not implemented for gateways`;
  if (!s.tls?.credentialName && ((s.tls?.credentialNames ?? []).length > 1 || (s.tls?.tlsCertificates ?? []).length > 0)) {
    if (!passthrough(s)) return 'several certificates (credentialNames with more than one name, tlsCertificates) are not implemented: use credentialName or serverCertificate/privateKey files';
  }
  if (s.bind?.startsWith('unix://')) return 'a unix domain socket bind is not implemented';
  return undefined;
}

/** istiod's gatewayRDSRouteName. */
function routeName(s: GatewayServer, protocol: Protocol, port: number, gw: Gateway): string | undefined {
  const bind = s.bind ? `.${s.bind}` : '';
  if (isHttp(protocol)) return `http.${port}${bind}`;
  if (protocol === 'HTTPS' && !passthrough(s)) return `https.${s.port.number}.${s.port.name}.${gw.metadata.name}.${gw.metadata.namespace ?? 'default'}${bind}`;
  return undefined;
}

/** istiod's sanitizeServerHostNamespace. */
function canonicalHosts(hosts: readonly string[], namespace: string): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const slash = h.indexOf('/');
    if (slash < 0) out.push(h);
    else if (h.startsWith('./')) out.push(`${namespace}/${h.slice(2)}`);
    else if (h.startsWith('*/')) {
      if (h === '*/*') return ['*'];
      out.push(h.slice(2));
    } else out.push(h);
  }
  return out;
}

/** The hosts as SNI names: the namespace dropped (istiod's GetSNIHostsForServer), sorted and unique. */
export function sniHosts(ref: ServerRef): string[] {
  return [...new Set(ref.hosts.map((h) => h.slice(h.indexOf('/') + 1)))].sort();
}

/** The listener ports of a server port (istiod's resolvePorts with the legacy selector). */
function resolvePort(model: MeshModel, namespace: string, labels: Readonly<Record<string, string>>, number: number): number {
  for (const svc of model.servicesForWorkload(namespace, labels)) {
    const p = svc.ports.find((sp) => sp.port === number);
    if (p && typeof p.targetPort === 'number') return p.targetPort;
  }
  return number;
}

/** Merges the servers of `gateways` (oldest first) for a router in `namespace` with `labels`. */
export function mergeGateways(model: MeshModel, gateways: readonly Gateway[], namespace: string, labels: Readonly<Record<string, string>>): MergedGateway {
  const ports = new Map<string, MergedPort & { servers: ServerRef[] }>();
  const serversByRoute = new Map<string, ServerRef[]>();
  const tlsHosts = new Map<string, Set<string>>();
  const gatewayNames = new Set<string>();
  for (const gw of gateways) {
    const gwNs = gw.metadata.namespace ?? 'default';
    const name = `${gwNs}/${gw.metadata.name}`;
    gatewayNames.add(name);
    for (const s of gw.spec.servers) {
      const why = unsupportedServer(s);
      const protocol = parseProtocol(s.port.protocol);
      if (why !== undefined || protocol === undefined) {
        log.warn('gateway server skipped', { gateway: name, port: s.port.name, reason: why ?? `protocol ${s.port.protocol}` });
        continue;
      }
      const number = resolvePort(model, namespace, labels, s.port.number);
      const bind = s.bind ?? '';
      const ref: ServerRef = { gateway: name, gatewayNamespace: gwNs, server: s, protocol, hosts: canonicalHosts(s.hosts, gwNs), routeName: routeName(s, protocol, number, gw) };
      const key = `${bind}_${number}`;
      const plain = !isTls(protocol);
      const current = ports.get(key);
      if (current !== undefined && (current.plain !== plain || (plain && !(isHttp(current.servers[0]!.protocol) && isHttp(protocol))))) {
        log.warn('gateway server skipped: its port is taken by another protocol', { gateway: name, port: number, protocol });
        continue;
      }
      if (!plain) {
        const seen = tlsHosts.get(key) ?? new Set<string>();
        const dup = ref.hosts.filter((h) => seen.has(h));
        if (dup.length > 0) {
          log.warn('gateway server skipped: duplicate TLS hosts on its port', { gateway: name, port: number, hosts: dup.join(',') });
          continue;
        }
        for (const h of ref.hosts) seen.add(h);
        tlsHosts.set(key, seen);
        if (ref.routeName !== undefined && serversByRoute.has(ref.routeName)) {
          log.warn('gateway server skipped: non unique port name for HTTPS port', { gateway: name, port: number, route: ref.routeName });
          continue;
        }
      }
      if (current === undefined) ports.set(key, { port: number, bind, plain, servers: [ref] });
      else current.servers.push(ref);
      if (ref.routeName !== undefined) serversByRoute.set(ref.routeName, [...(serversByRoute.get(ref.routeName) ?? []), ref]);
    }
  }
  return { ports: [...ports.values()], serversByRoute, gatewayNames };
}
