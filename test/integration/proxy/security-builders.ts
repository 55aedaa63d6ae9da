/**
 * Hand-made Envoy resources shaped as istiod generates them for
 * PeerAuthentication and AuthorizationPolicy: inbound filter chains matched on
 * transport protocol and ALPN behind tls_inspector/http_inspector, mTLS
 * transport sockets ("default"/"ROOTCA" over SDS), RBAC filters with
 * policies named `ns[NS]-policy[NAME]-rule[N]` and istiod's and/or nesting,
 * and auto-mTLS clusters (transport_socket_matches on tlsMode).
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChainSchema, FilterSchema } from '../../../src/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TrafficDirection, type TransportSocketSchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_ForwardClientCertDetails as Xfcc,
  type HttpFilterSchema,
} from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { RouterSchema } from '../../../src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../../src/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../../../src/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { RBAC_Action, type RBACSchema, type PolicySchema, type PermissionSchema, type PrincipalSchema } from '../../../src/gen/envoy/config/rbac/v3/rbac_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { RawBufferSchema } from '../../../src/gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { TlsInspectorSchema } from '../../../src/gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { HttpInspectorSchema } from '../../../src/gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { StdoutAccessLogSchema } from '../../../src/gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import type { StringMatcherSchema } from '../../../src/gen/envoy/type/matcher/v3/string_pb.js';
import { ms } from './xds-builders.js';

export type ChainInit = MessageInitShape<typeof FilterChainSchema>;
type FilterInit = MessageInitShape<typeof FilterSchema>;
type HttpFilterInit = MessageInitShape<typeof HttpFilterSchema>;
type StringMatcherInit = MessageInitShape<typeof StringMatcherSchema>;
export type PolicyInit = MessageInitShape<typeof PolicySchema>;
type RbacInit = MessageInitShape<typeof RBACSchema>;

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };
const sock = (port: number, host = '127.0.0.1') => ({ address: { case: 'socketAddress' as const, value: { address: host, portSpecifier: { case: 'portValue' as const, value: port } } } });
const typed = (value: Any) => ({ configType: { case: 'typedConfig' as const, value } });

/** istiod's ALPN sets (pilot/pkg/networking/core/listener.go). */
export const MTLS_HTTP_ALPNS = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
export const PLAINTEXT_HTTP_ALPNS = ['http/1.1', 'h2c'];
export const MTLS_TCP_ALPNS = ['istio-peer-exchange', 'istio'];

export const exact = (value: string): StringMatcherInit => ({ matchPattern: { case: 'exact', value } });
export const prefix = (value: string): StringMatcherInit => ({ matchPattern: { case: 'prefix', value } });

function stdoutLog(format: string) {
  return [{ name: 'envoy.access_loggers.stdout', ...typed(anyPack(StdoutAccessLogSchema, create(StdoutAccessLogSchema, { accessLogFormat: { case: 'logFormat', value: { format: { case: 'textFormat', value: format } } } }))) }];
}

export interface HcmOpts {
  statPrefix: string;
  /** Every request goes to this cluster (an inline route, as istiod's inbound chains have). */
  cluster: string;
  httpFilters?: HttpFilterInit[];
  accessLog?: string;
  xfcc?: { mode: keyof typeof Xfcc; subject?: boolean; cert?: boolean; chain?: boolean; uri?: boolean; dns?: boolean };
}

export function hcm(o: HcmOpts): FilterInit {
  const m = create(HttpConnectionManagerSchema, {
    statPrefix: o.statPrefix,
    routeSpecifier: { case: 'routeConfig', value: { name: o.cluster, virtualHosts: [{ name: 'inbound', domains: ['*'], routes: [{ name: 'default', match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: o.cluster }, timeout: ms(0) } } }] }] } },
    httpFilters: [...(o.httpFilters ?? []), { name: 'envoy.filters.http.router', ...typed(anyPack(RouterSchema, create(RouterSchema))) }],
    accessLog: o.accessLog ? stdoutLog(o.accessLog) : [],
    forwardClientCertDetails: o.xfcc ? Xfcc[o.xfcc.mode] : Xfcc.SANITIZE,
    setCurrentClientCertDetails: o.xfcc ? { subject: o.xfcc.subject, cert: o.xfcc.cert ?? false, chain: o.xfcc.chain ?? false, uri: o.xfcc.uri ?? false, dns: o.xfcc.dns ?? false } : undefined,
  });
  return { name: 'envoy.filters.network.http_connection_manager', ...typed(anyPack(HttpConnectionManagerSchema, m)) };
}

export function tcpProxy(statPrefix: string, cluster: string, accessLog?: string): FilterInit {
  return { name: 'envoy.filters.network.tcp_proxy', ...typed(anyPack(TcpProxySchema, create(TcpProxySchema, { statPrefix, clusterSpecifier: { case: 'cluster', value: cluster }, accessLog: accessLog ? stdoutLog(accessLog) : [] }))) };
}

export function httpRbac(rules: RbacInit | undefined, o: { shadow?: RbacInit; shadowPrefix?: string } = {}): HttpFilterInit {
  return { name: 'envoy.filters.http.rbac', ...typed(anyPack(HttpRbacSchema, create(HttpRbacSchema, { rules, shadowRules: o.shadow, shadowRulesStatPrefix: o.shadowPrefix ?? '' }))) };
}

export function networkRbac(rules: RbacInit, statPrefix = 'tcp.'): FilterInit {
  return { name: 'envoy.filters.network.rbac', ...typed(anyPack(NetworkRbacSchema, create(NetworkRbacSchema, { rules, statPrefix }))) };
}

export const allow = (policies: Record<string, PolicyInit>): RbacInit => ({ action: RBAC_Action.ALLOW, policies });
export const deny = (policies: Record<string, PolicyInit>): RbacInit => ({ action: RBAC_Action.DENY, policies });

export interface IstioRule {
  principals?: string[];
  namespaces?: string[];
  ipBlocks?: string[];
  methods?: string[];
  paths?: string[];
  ports?: number[];
  /** when: request.headers[name] in values */
  headers?: Record<string, string[]>;
}

/** One AuthorizationPolicy rule as istiod's authz builder writes it: AND of ORs on both sides. */
export function istioPolicy(r: IstioRule): PolicyInit {
  type Perm = MessageInitShape<typeof PermissionSchema>;
  type Id = MessageInitShape<typeof PrincipalSchema>;
  const perms: Perm[][] = [];
  const ids: Id[][] = [];
  const header = (name: string, m: StringMatcherInit): Perm => ({ rule: { case: 'header', value: { name, headerMatchSpecifier: { case: 'stringMatch', value: m } } } });
  if (r.methods) perms.push(r.methods.map((m) => header(':method', exact(m))));
  if (r.paths) perms.push(r.paths.map((p) => ({ rule: { case: 'urlPath', value: { rule: { case: 'path', value: p.endsWith('*') ? prefix(p.slice(0, -1)) : exact(p) } } } })));
  if (r.ports) perms.push(r.ports.map((p) => ({ rule: { case: 'destinationPort', value: p } })));
  for (const [name, values] of Object.entries(r.headers ?? {})) perms.push(values.map((v) => header(name, exact(v))));
  const authn = (m: StringMatcherInit): Id => ({ identifier: { case: 'authenticated', value: { principalName: m } } });
  if (r.principals) ids.push(r.principals.map((p) => authn(exact(`spiffe://${p}`))));
  if (r.namespaces) ids.push(r.namespaces.map((n) => authn({ matchPattern: { case: 'safeRegex', value: { regex: `.*/ns/${n}/.*` } } })));
  if (r.ipBlocks) ids.push(r.ipBlocks.map((b) => {
    const [addressPrefix, len] = b.split('/');
    return { identifier: { case: 'directRemoteIp', value: { addressPrefix, prefixLen: Number(len ?? 32) } } };
  }));
  return {
    permissions: [{ rule: { case: 'andRules', value: { rules: perms.length ? perms.map((rules) => ({ rule: { case: 'orRules', value: { rules } } })) : [{ rule: { case: 'any', value: true } }] } } }],
    principals: [{ identifier: { case: 'andIds', value: { ids: ids.length ? ids.map((x) => ({ identifier: { case: 'orIds', value: { ids: x } } })) : [{ identifier: { case: 'any', value: true } }] } } }],
  };
}

/** istiod's inbound DownstreamTlsContext: the SDS "default" certificate, ROOTCA trust, a client certificate required. */
export function inboundMtls(o: { alpn?: string[]; sans?: StringMatcherInit[]; requireClientCert?: boolean } = {}): MessageInitShape<typeof TransportSocketSchema> {
  const ctx = create(DownstreamTlsContextSchema, {
    commonTlsContext: {
      tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: ads }],
      validationContextType: { case: 'combinedValidationContext', value: { defaultValidationContext: { matchSubjectAltNames: o.sans ?? [] }, validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads } } },
      alpnProtocols: o.alpn ?? ['h2', 'http/1.1'],
    },
    requireClientCertificate: o.requireClientCert ?? true,
  });
  return { name: 'envoy.transport_sockets.tls', ...typed(anyPack(DownstreamTlsContextSchema, ctx)) };
}

/** istiod's outbound ISTIO_MUTUAL UpstreamTlsContext. */
export function upstreamMtls(o: { sans?: StringMatcherInit[]; alpn?: string[]; sni?: string; certSecret?: string } = {}): MessageInitShape<typeof TransportSocketSchema> {
  const ctx = create(UpstreamTlsContextSchema, {
    commonTlsContext: {
      tlsCertificateSdsSecretConfigs: [{ name: o.certSecret ?? 'default', sdsConfig: ads }],
      validationContextType: { case: 'combinedValidationContext', value: { defaultValidationContext: { matchSubjectAltNames: o.sans ?? [] }, validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads } } },
      alpnProtocols: o.alpn ?? MTLS_TCP_ALPNS,
    },
    sni: o.sni ?? '',
  });
  return { name: 'envoy.transport_sockets.tls', ...typed(anyPack(UpstreamTlsContextSchema, ctx)) };
}

const RAW = { name: 'envoy.transport_sockets.raw_buffer', ...typed(anyPack(RawBufferSchema, create(RawBufferSchema))) };

/** An inbound listener on 127.0.0.1:port with the given chains and inspectors (istiod lists tls_inspector before http_inspector). */
export function inboundListener(name: string, port: number, chains: ChainInit[], inspectors: Array<'tls' | 'http'> = ['tls', 'http']): Any {
  const lf = inspectors.map((i) => i === 'tls'
    ? { name: 'envoy.filters.listener.tls_inspector', ...typed(anyPack(TlsInspectorSchema, create(TlsInspectorSchema))) }
    : { name: 'envoy.filters.listener.http_inspector', ...typed(anyPack(HttpInspectorSchema, create(HttpInspectorSchema))) });
  return anyPack(ListenerSchema, create(ListenerSchema, { name, address: sock(port), trafficDirection: TrafficDirection.INBOUND, listenerFilters: lf, filterChains: chains }));
}

export function staticCluster(name: string, port: number, extra: Partial<MessageInitShape<typeof ClusterSchema>> = {}): Any {
  return anyPack(ClusterSchema, create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: ms(1000),
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: sock(port) } } }] }] },
    ...extra,
  } as MessageInitShape<typeof ClusterSchema>));
}

/**
 * An EDS cluster with istiod's auto-mTLS transport_socket_matches: tlsMode "istio" gets mTLS, the
 * rest plaintext (the empty "tlsMode-disabled" match; without it, the cluster's own transport socket).
 */
export function autoMtlsCluster(name: string, mtls: MessageInitShape<typeof TransportSocketSchema>, o: { disabledMatch?: boolean } = {}): Any {
  return anyPack(ClusterSchema, create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ads },
    connectTimeout: ms(1000),
    transportSocketMatches: [
      { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transportSocket: mtls },
      ...(o.disabledMatch === false ? [] : [{ name: 'tlsMode-disabled', match: {}, transportSocket: RAW }]),
    ],
  }));
}

/** EDS endpoints with istiod's endpoint metadata (filter_metadata["envoy.transport_socket_match"].tlsMode when set). */
export function endpointsWithTlsMode(clusterName: string, eps: Array<{ port: number; tlsMode?: string }>, localityTlsMode?: string): Any {
  const md = (tlsMode: string | undefined) => (tlsMode ? { filterMetadata: { 'envoy.transport_socket_match': { tlsMode } } } : undefined);
  return anyPack(ClusterLoadAssignmentSchema, create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: [{
      metadata: md(localityTlsMode),
      lbEndpoints: eps.map((e) => ({ hostIdentifier: { case: 'endpoint' as const, value: { address: sock(e.port) } }, metadata: md(e.tlsMode) })),
    }],
  }));
}
