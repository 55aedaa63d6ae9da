/**
 * The TLS transport socket of a filter chain (DownstreamTlsContext) or a
 * cluster (UpstreamTlsContext), compiled once: which SDS secrets it needs
 * ("default" and "ROOTCA" in Istio), inline certificates, ALPN, SNI, whether
 * a client certificate is required, and the subject-alt-name matchers a peer
 * must satisfy. Unknown transport sockets are refused (a NACK): serving
 * plaintext where TLS was configured is never an option.
 */
import type { MessageShape } from '@bufbuild/protobuf';
import { unpackTyped } from '../util.js';
import type { TransportSocket } from '../../gen/envoy/config/core/v3/base_pb.js';
import { createSecureContext, type SecureVersion } from 'node:tls';
import { SubjectAltNameMatcher_SanType as SanType, TlsParameters_TlsProtocol, type CertificateValidationContext, type TlsParameters } from '../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { SdsSecretConfig } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { compileStringMatcher, type StringPredicate } from '../router/string-match.js';
import { compileCertificate, compileValidation, type SecretPlan } from './secret.js';

export interface TlsPlan {
  /** SDS name of the certificate, or the inline one. */
  certSecret: string | undefined;
  inlineCert: SecretPlan | undefined;
  /** SDS name of the trusted CA, or the inline one; neither = the peer is not verified. */
  caSecret: string | undefined;
  inlineCa: SecretPlan | undefined;
  /**
   * The peer must present a SAN matching one of these (empty: any verified peer); `type` is node's SAN
   * prefix (URI, DNS, email, IP Address) for match_typed_subject_alt_names, undefined for any SAN.
   */
  sanMatchers: SanMatcher[];
  alpn: string[];
  /** Upstream: the SNI sent. */
  sni: string;
  /** Downstream: a client certificate is mandatory (Istio STRICT). */
  requireClientCert: boolean;
  /** SDS names this context waits for from the ADS stream. */
  sdsNames: string[];
  /** SDS names served by the proxy's own certificate agent (Istio's "sds-grpc" source: istio-agent's SDS). */
  agentNames: string[];
  /** Identity of the configuration (its encoded typed_config): equal keys, same TLS behaviour. */
  key: string;
  /** TlsParameters for node:tls (Envoy's defaults: TLS 1.2 to 1.3, the library's ciphers and curves). */
  params: TlsParams;
}

export interface SanMatcher {
  type: string | undefined;
  match: StringPredicate;
}

/** SubjectAltNameMatcher.san_type → node's subjectaltname prefix. */
const SAN_TYPES: Record<number, string | undefined> = {
  [SanType.EMAIL]: 'email',
  [SanType.DNS]: 'DNS',
  [SanType.URI]: 'URI',
  [SanType.IP_ADDRESS]: 'IP Address',
};

export interface TlsParams {
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  /** OpenSSL cipher list (TLS 1.2 and below), undefined = node's default. */
  ciphers: string | undefined;
  ecdhCurve: string | undefined;
}

const VERSIONS: Record<number, SecureVersion | undefined> = {
  [TlsParameters_TlsProtocol.TLS_AUTO]: undefined,
  [TlsParameters_TlsProtocol.TLSv1_0]: 'TLSv1',
  [TlsParameters_TlsProtocol.TLSv1_1]: 'TLSv1.1',
  [TlsParameters_TlsProtocol.TLSv1_2]: 'TLSv1.2',
  [TlsParameters_TlsProtocol.TLSv1_3]: 'TLSv1.3',
};
const ORDER: SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * Envoy's TlsParameters. Cipher suites use BoringSSL's names, which are OpenSSL's for the suites Envoy
 * and Istio configure; BoringSSL's equal-preference groups "[A|B]" become plain order. A list OpenSSL
 * cannot use is an error at config time, not a failed handshake later.
 */
function compileParams(p: TlsParameters | undefined, path: string, errors: string[]): TlsParams {
  const version = (v: TlsParameters_TlsProtocol | undefined, field: string) => {
    if (v === undefined) return undefined;
    if (!(v in VERSIONS)) errors.push(`${path}.${field}: unknown TLS version ${v}`);
    return VERSIONS[v];
  };
  const params: TlsParams = {
    minVersion: version(p?.tlsMinimumProtocolVersion, 'tlsMinimumProtocolVersion') ?? 'TLSv1.2',
    maxVersion: version(p?.tlsMaximumProtocolVersion, 'tlsMaximumProtocolVersion') ?? 'TLSv1.3',
    ciphers: p && p.cipherSuites.length > 0 ? p.cipherSuites.flatMap((c) => c.replace(/^\[|\]$/g, '').split('|')).join(':') : undefined,
    ecdhCurve: p && p.ecdhCurves.length > 0 ? p.ecdhCurves.join(':') : undefined,
  };
  if (ORDER.indexOf(params.minVersion) > ORDER.indexOf(params.maxVersion)) errors.push(`${path}: tlsMinimumProtocolVersion is above tlsMaximumProtocolVersion`);
  if (params.ciphers !== undefined || params.ecdhCurve !== undefined) {
    try {
      createSecureContext({ ciphers: params.ciphers, ecdhCurve: params.ecdhCurve });
    } catch (err) {
      errors.push(`${path}: cipherSuites/ecdhCurves not usable: ${(err as Error).message}`);
    }
  }
  return params;
}

const RAW = 'envoy.transport_sockets.raw_buffer';
const RAW_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

/** The cluster Istio's bootstrap defines for the agent's SDS socket; here the agent lives in the proxy. */
export const AGENT_SDS_CLUSTER = 'sds-grpc';

/** Where a secret comes from: the ADS stream (sds_config ads, or none), or the local agent (sds-grpc). */
function secretSource(c: SdsSecretConfig, path: string, errors: string[]): 'ads' | 'agent' | undefined {
  const cs = c.sdsConfig?.configSourceSpecifier;
  if (cs === undefined || cs.case === undefined || cs.case === 'ads') return 'ads';
  if (cs.case === 'apiConfigSource') {
    const services = cs.value.grpcServices;
    const target = services.length === 1 ? services[0]!.targetSpecifier : undefined;
    if (target?.case === 'envoyGrpc' && target.value.clusterName === AGENT_SDS_CLUSTER) return 'agent';
  }
  errors.push(`${path}.sdsConfig: unsupported config source (ADS, or the local agent's cluster "${AGENT_SDS_CLUSTER}")`);
  return undefined;
}

function sdsName(c: SdsSecretConfig, path: string, errors: string[], plan: TlsPlan): string | undefined {
  if (!c.name) errors.push(`${path}.name: missing`);
  const source = secretSource(c, path, errors);
  if (!c.name || source === undefined) return undefined;
  (source === 'agent' ? plan.agentNames : plan.sdsNames).push(c.name);
  return c.name;
}

function common(ctx: CommonTlsContext | undefined, path: string, errors: string[], side: 'downstream' | 'upstream', key: string): TlsPlan {
  const plan: TlsPlan = {
    certSecret: undefined, inlineCert: undefined, caSecret: undefined, inlineCa: undefined,
    sanMatchers: [], alpn: [...(ctx?.alpnProtocols ?? [])], sni: '', requireClientCert: false, sdsNames: [], agentNames: [], key,
    params: compileParams(ctx?.tlsParams, `${path}.tlsParams`, errors),
  };
  if (!ctx) {
    if (side === 'downstream') errors.push(`${path}: missing (a TLS server needs a certificate)`);
    return plan;
  }
  if (ctx.tlsCertificates.length + ctx.tlsCertificateSdsSecretConfigs.length > 1) errors.push(`${path}: more than one certificate is not supported`);
  if (ctx.tlsCertificates[0]) plan.inlineCert = compileCertificate(ctx.tlsCertificates[0], 'inline', `${path}.tlsCertificates[0]`, errors);
  if (ctx.tlsCertificateSdsSecretConfigs[0]) plan.certSecret = sdsName(ctx.tlsCertificateSdsSecretConfigs[0], `${path}.tlsCertificateSdsSecretConfigs[0]`, errors, plan);
  if (side === 'downstream' && !plan.inlineCert && !plan.certSecret) errors.push(`${path}: no certificate (tlsCertificates or tlsCertificateSdsSecretConfigs)`);
  const v = ctx.validationContextType;
  // As Envoy: match_typed_subject_alt_names, when given, replaces the deprecated untyped list.
  const matchers = (vc: CertificateValidationContext | undefined, p: string): SanMatcher[] => {
    const typed = vc?.matchTypedSubjectAltNames ?? [];
    if (typed.length === 0) return (vc?.matchSubjectAltNames ?? []).map((m, i) => ({ type: undefined, match: compileStringMatcher(m, `${p}.matchSubjectAltNames[${i}]`, errors) }));
    return typed.map((t, i) => {
      const at = `${p}.matchTypedSubjectAltNames[${i}]`;
      const type = SAN_TYPES[t.sanType];
      if (!type) errors.push(`${at}.sanType: ${SanType[t.sanType] ?? t.sanType} is not supported (EMAIL, DNS, URI, IP_ADDRESS)`);
      if (!t.matcher) errors.push(`${at}.matcher: missing`);
      return { type, match: t.matcher ? compileStringMatcher(t.matcher, `${at}.matcher`, errors) : () => false };
    });
  };
  switch (v.case) {
    case 'validationContext':
      if (v.value.trustedCa) plan.inlineCa = compileValidation(v.value, 'inline', `${path}.validationContext`, errors);
      plan.sanMatchers = matchers(v.value, `${path}.validationContext`);
      break;
    case 'validationContextSdsSecretConfig':
      plan.caSecret = sdsName(v.value, `${path}.validationContextSdsSecretConfig`, errors, plan);
      break;
    case 'combinedValidationContext': {
      const p = `${path}.combinedValidationContext`;
      if (!v.value.validationContextSdsSecretConfig) errors.push(`${p}.validationContextSdsSecretConfig: missing`);
      else plan.caSecret = sdsName(v.value.validationContextSdsSecretConfig, `${p}.validationContextSdsSecretConfig`, errors, plan);
      plan.sanMatchers = matchers(v.value.defaultValidationContext, `${p}.defaultValidationContext`);
      break;
    }
    case undefined:
      break;
    default:
      errors.push(`${path}.validationContextType: unsupported (${v.case})`);
  }
  if (plan.sanMatchers.length > 0 && !plan.caSecret && !plan.inlineCa) errors.push(`${path}: matchSubjectAltNames without a trusted CA`);
  return plan;
}

/**
 * The TLS context in a transport socket, if it is one: undefined for plaintext (none or raw_buffer), an
 * error for any other transport socket or a context of the other side.
 */
function tlsContext<S extends typeof DownstreamTlsContextSchema | typeof UpstreamTlsContextSchema>(
  ts: TransportSocket | undefined, schema: S, path: string, errors: string[],
): { ctx: MessageShape<S>; key: string } | undefined {
  if (!ts) return undefined;
  const c = ts.configType;
  if (c.case !== 'typedConfig') {
    if (ts.name !== RAW) errors.push(`${path}.typedConfig: missing`);
    return undefined;
  }
  if (c.value.typeUrl === RAW_TYPE) return undefined;
  if (c.value.typeUrl !== `type.googleapis.com/${schema.typeName}`) {
    errors.push(`${path}: unsupported transport socket ${ts.name} (${c.value.typeUrl})`);
    return undefined;
  }
  const ctx = unpackTyped(c.value, schema, path, errors) as MessageShape<S> | undefined;
  return ctx ? { ctx, key: Buffer.from(c.value.value).toString('base64') } : undefined;
}

/** A filter chain's transport socket; undefined for plaintext (none or raw_buffer). */
export function compileDownstreamTls(ts: TransportSocket | undefined, path: string, errors: string[]): TlsPlan | undefined {
  const t = tlsContext(ts, DownstreamTlsContextSchema, path, errors);
  if (!t) return undefined;
  const plan = common(t.ctx.commonTlsContext, `${path}.typedConfig.commonTlsContext`, errors, 'downstream', t.key);
  plan.requireClientCert = t.ctx.requireClientCertificate ?? false;
  if (plan.requireClientCert && !plan.caSecret && !plan.inlineCa) errors.push(`${path}.typedConfig.requireClientCertificate: set without a trusted CA`);
  return plan;
}

/** A cluster's transport socket; undefined for plaintext. */
export function compileUpstreamTls(ts: TransportSocket | undefined, path: string, errors: string[]): TlsPlan | undefined {
  const t = tlsContext(ts, UpstreamTlsContextSchema, path, errors);
  if (!t) return undefined;
  const plan = common(t.ctx.commonTlsContext, `${path}.typedConfig.commonTlsContext`, errors, 'upstream', t.key);
  plan.sni = t.ctx.sni;
  return plan;
}
