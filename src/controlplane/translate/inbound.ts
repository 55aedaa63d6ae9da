import { create } from '@bufbuild/protobuf';
import {
  FilterChainMatchSchema,
  FilterChainSchema,
  type Filter,
  type FilterChain,
} from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { ListenerSchema, type Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteActionSchema, RouteMatchSchema, RouteSchema, VirtualHostSchema } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { TrafficDirection } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { HttpFilter } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { MeshModel, MtlsMode, Protocol, Workload } from '../registry/model.js';
import type { SidecarIngress } from '../../config/objects.js';
import { isHttpProtocol, parseProtocol } from '../registry/protocol.js';
import { resolveTargetPort } from '../registry/endpoints-build.js';
import { durationMs, istioConfigMetadata, socketAddress } from './common.js';
import { hcmFilter, inboundHcm, tcpProxyFilter, tcpProxyTo } from './hcm.js';
import { inspectorListenerFilters, originalDstListenerFilter } from './listener-filters.js';
import { chainOptions } from './inbound-chain-options.js';
import { downstreamTransportSocket, inboundMtlsContext } from './inbound-tls.js';
import { modeSource, mtlsModeForPort, type EffectiveMtls } from '../registry/peer-authentication.js';
import { BlackHoleCluster, InboundCapturePort, InboundPassthroughCluster, VirtualInbound, inboundClusterName } from './names.js';
import type { InboundService } from './contracts.js';

/** istiod's names for the chains of virtualInbound that serve no declared port. */
export const InboundChainName = {
  blackhole: 'virtualInbound-blackhole',
  passthroughHttp: 'virtualInbound-catchall-http',
  passthroughTcp: VirtualInbound,
} as const;

/** One port the proxy's own workload serves: the target port of a service port selecting it. */
export interface InboundPort {
  port: number;
  protocol: Protocol;
  /** The services reaching the workload on this port (Istio's inbound cluster metadata: telemetry's destination_service). */
  services: readonly InboundService[];
  /** A Sidecar ingress listener's defaultEndpoint on the pod's loopback: the app's port there (else the original destination). */
  loopbackPort?: number;
}

/** What the inbound listener enforces for its workload, besides the ports it serves. */
export interface InboundSecurity {
  mtls: EffectiveMtls;
  /** RequestAuthentication as the jwt_authn filter (or nothing): on HTTP chains, before the authorization filters. */
  authn: readonly HttpFilter[];
  /** AuthorizationPolicy as filters: HTTP ones go before the router, network ones before tcp_proxy. */
  authz: { http: readonly HttpFilter[]; tcp: readonly Filter[] };
  trustDomain: string;
}

/**
 * The ports of every service selecting this workload, by target port (deduplicated:
 * the first service in hostname order decides the protocol), sorted — or,
 * when the workload's Sidecar declares ingress listeners, exactly those.
 */
export function inboundPorts(model: MeshModel, namespace: string, labels: Readonly<Record<string, string>>, workload: Workload | undefined): InboundPort[] {
  const fromServices = servicePorts(model, namespace, labels, workload);
  const ingress = model.sidecarFor(namespace, labels)?.spec.ingress;
  return ingress && ingress.length > 0 ? ingressPorts(ingress, fromServices) : fromServices;
}

/**
 * Istio's Sidecar ingress: each listener's port is served with its own
 * protocol, sent to its defaultEndpoint — 127.0.0.1:PORT (the app on the
 * pod's loopback, a STATIC cluster) or 0.0.0.0:PORT / none (the original
 * destination, as without a Sidecar). The services selecting the workload
 * on that port still name it for telemetry. What cannot be honoured (a unix
 * socket, another address, 0.0.0.0 with another port) is reported by
 * analyze/unsupported-fields.ts and served as the original destination.
 */
function ingressPorts(ingress: readonly SidecarIngress[], fromServices: readonly InboundPort[]): InboundPort[] {
  const out = new Map<number, InboundPort>();
  for (const l of ingress) {
    const port = l.port?.number;
    if (port === undefined || out.has(port)) continue;
    const protocol = parseProtocol(l.port?.protocol) ?? parseProtocol(l.port?.name?.split('-')[0]) ?? 'TCP';
    const services = fromServices.find((p) => p.port === port)?.services ?? [];
    const m = /^127\.0\.0\.1:(\d+)$/.exec(l.defaultEndpoint ?? '');
    out.set(port, { port, protocol, services, ...(m ? { loopbackPort: Number(m[1]) } : {}) });
  }
  return [...out.values()].sort((a, b) => a.port - b.port);
}

function servicePorts(model: MeshModel, namespace: string, labels: Readonly<Record<string, string>>, workload: Workload | undefined): InboundPort[] {
  const byPort = new Map<number, { protocol: Protocol; services: InboundService[] }>();
  for (const svc of model.servicesForWorkload(namespace, labels)) {
    for (const p of svc.ports) {
      if (p.protocol === 'UDP') continue;
      const target = resolveTargetPort(p, workload);
      if (target === undefined) continue;
      let entry = byPort.get(target);
      if (!entry) byPort.set(target, (entry = { protocol: p.protocol, services: [] }));
      if (!entry.services.some((x) => x.host === svc.hostname)) entry.services.push({ host: svc.hostname, name: svc.name, namespace: svc.namespace });
    }
  }
  return [...byPort.entries()].sort((a, b) => a[0] - b[0]).map(([port, e]) => ({
    port, protocol: e.protocol, services: e.services.sort((a, b) => a.host.localeCompare(b.host)),
  }));
}

/** A stable key for a set of inbound ports (the security side has its own key parts, see generator-impl). */
export function inboundKey(ports: readonly InboundPort[]): string {
  return ports.map((p) => `${p.port}:${isHttpProtocol(p.protocol) ? 'h' : 't'}:${p.services.map((x) => x.host).join('+')}${p.loopbackPort ? `@${p.loopbackPort}` : ''}`).join(',');
}

/** Istio's inline inbound route: everything to the chain's cluster, no timeout (the app decides). */
export function inboundRoute(cluster: string, port: number): RouteConfiguration {
  const route = create(RouteSchema, {
    name: 'default',
    match: create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } }),
    action: { case: 'route', value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: cluster }, timeout: durationMs(0) }) },
  });
  return create(RouteConfigurationSchema, {
    name: cluster,
    virtualHosts: [create(VirtualHostSchema, { name: `inbound|http|${port}`, domains: ['*'], routes: [route] })],
    validateClusters: false,
  });
}

/** Where one set of chains sends its traffic and how its chains are named. */
interface ChainTarget {
  /** Matched destination port; undefined for the catch-all passthrough. */
  port: number | undefined;
  protocol: 'http' | 'tcp' | 'auto';
  cluster: string;
  name: (protocol: 'http' | 'tcp') => string;
  httpStatPrefix: string;
  route: RouteConfiguration;
}

/** One filter chain per match option of the port's mode (inbound-chain-options.ts), as istiod's inboundChainForOpts. */
function chainsFor(t: ChainTarget, mode: MtlsMode, sec: InboundSecurity): FilterChain[] {
  const source = modeSource(sec.mtls, t.port);
  const metadata = source ? istioConfigMetadata('peer-authentication', source.pa.metadata.namespace ?? 'default', source.pa.metadata.name, { field: source.field }) : undefined;
  return chainOptions(mode, t.protocol).map((o) => create(FilterChainSchema, {
    name: t.name(o.protocol),
    metadata,
    filterChainMatch: create(FilterChainMatchSchema, {
      destinationPort: t.port,
      transportProtocol: o.transportProtocol,
      applicationProtocols: [...o.applicationProtocols],
    }),
    filters: o.protocol === 'http'
      ? [hcmFilter(inboundHcm(t.httpStatPrefix, t.route, [...sec.authn, ...sec.authz.http]))]
      : [...sec.authz.tcp, tcpProxyFilter(tcpProxyTo(t.cluster))],
    transportSocket: o.mtls ? downstreamTransportSocket(inboundMtlsContext(o.protocol, sec.trustDomain)) : undefined,
  }));
}

function servicePortChains(p: InboundPort, sec: InboundSecurity): FilterChain[] {
  const cluster = inboundClusterName(p.port);
  const name = `0.0.0.0_${p.port}`;
  const target: ChainTarget = {
    port: p.port, protocol: isHttpProtocol(p.protocol) ? 'http' : 'tcp', cluster, name: () => name,
    httpStatPrefix: `inbound_${name}`, route: inboundRoute(cluster, p.port),
  };
  return chainsFor(target, mtlsModeForPort(sec.mtls, p.port), sec);
}

/** Traffic to a port no service declares; `port` set for a portLevelMtls port that has no service. */
function passthroughChains(port: number | undefined, sec: InboundSecurity): FilterChain[] {
  const target: ChainTarget = {
    port, protocol: 'auto', cluster: InboundPassthroughCluster,
    name: (protocol) => (protocol === 'http' ? InboundChainName.passthroughHttp : InboundChainName.passthroughTcp),
    httpStatPrefix: InboundPassthroughCluster, route: inboundRoute(InboundPassthroughCluster, 0),
  };
  return chainsFor(target, port === undefined ? sec.mtls.mode : mtlsModeForPort(sec.mtls, port), sec);
}

/** Connections to 15006 itself would loop through the listener forever: they go nowhere. */
function blackholeChain(): FilterChain {
  return create(FilterChainSchema, {
    name: InboundChainName.blackhole,
    filterChainMatch: create(FilterChainMatchSchema, { destinationPort: InboundCapturePort }),
    filters: [tcpProxyFilter(tcpProxyTo(BlackHoleCluster))],
  });
}

/**
 * virtualInbound (0.0.0.0:15006), as istiod builds it for a sidecar: the
 * blackhole chain, the passthrough chains (the workload's mode, and one set
 * per portLevelMtls port no service declares), then the chains of each served
 * port — under STRICT only chains that terminate mTLS, under PERMISSIVE also
 * plaintext ones, under DISABLE plaintext only. The inspectors the chains'
 * matches need follow the original-destination filter.
 */
export function virtualInboundListener(ports: readonly InboundPort[], sec: InboundSecurity): Listener {
  const served = new Set(ports.map((p) => p.port));
  const chains = [
    blackholeChain(),
    ...passthroughChains(undefined, sec),
    ...[...sec.mtls.perPort.keys()].filter((p) => !served.has(p)).flatMap((p) => passthroughChains(p, sec)),
    ...ports.flatMap((p) => servicePortChains(p, sec)),
  ];
  return create(ListenerSchema, {
    name: VirtualInbound,
    address: socketAddress('0.0.0.0', InboundCapturePort),
    trafficDirection: TrafficDirection.INBOUND,
    listenerFilters: [originalDstListenerFilter(), ...inspectorListenerFilters(chains)],
    // istiod's protocolDetectionTimeout default, 0s: inspectors wait for the client's first bytes without a deadline.
    listenerFiltersTimeout: durationMs(0),
    continueOnListenerFiltersTimeout: true,
    filterChains: chains,
  });
}
