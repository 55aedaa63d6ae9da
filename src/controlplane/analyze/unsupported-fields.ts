/**
 * Fields of Istio's API that validate and that Trellis's translation does
 * not act on: each one set in the accepted config is a CONFIG_UNSUPPORTED
 * warning at its line, saying what happens instead, so a user never
 * believes a setting took effect when it did not (issue 13). Data, not
 * code: the table names the field by its path in the object ('*' for every
 * element of a list) and is checked against translation by the tests — a
 * field that gets implemented must leave this table in the same change.
 */
import { typeKey, type AnyObject } from '../../config/objects.js';
import type { FieldPath } from '../../config/field-lines.js';
import type { Finding } from './finding.js';
import { Unsupported } from './messages.js';
import { neverAppliedRules, telemetryRules } from './unsupported-kinds.js';
import type { Rule } from './unsupported-rule.js';

/** The places a TrafficPolicy sits in a DestinationRule. */
const trafficPolicies: readonly (readonly string[])[] = [
  ['spec', 'trafficPolicy'],
  ['spec', 'trafficPolicy', 'portLevelSettings', '*'],
  ['spec', 'subsets', '*', 'trafficPolicy'],
  ['spec', 'subsets', '*', 'trafficPolicy', 'portLevelSettings', '*'],
];

const policyRules: readonly { rel: readonly string[]; message: string }[] = [
  { rel: ['loadBalancer', 'warmupDurationSecs'], message: 'slow-start warm-up is not implemented: new endpoints get their full share at once' },
  { rel: ['loadBalancer', 'warmup'], message: 'slow-start warm-up is not implemented: new endpoints get their full share at once' },
  { rel: ['connectionPool', 'tcp', 'maxConnectionDuration'], message: 'maxConnectionDuration is not implemented: upstream connections are not closed by age' },
  { rel: ['connectionPool', 'tcp', 'idleTimeout'], message: 'connectionPool.tcp.idleTimeout is not implemented: TCP proxy connections have no idle timeout' },
  { rel: ['connectionPool', 'http', 'useClientProtocol'], message: 'useClientProtocol is not implemented: the upstream protocol comes from the port\'s protocol' },
  { rel: ['tls', 'credentialName'], message: 'credentialName (certificates from a Kubernetes Secret) is not implemented for sidecars: use clientCertificate/privateKey/caCertificates files' },
  { rel: ['outlierDetection', 'consecutiveErrors'], message: 'the deprecated consecutiveErrors is not read (istiod no longer reads it either): Envoy\'s default of 5 consecutive 5xx applies; use consecutive5xxErrors or consecutiveGatewayErrors' },
  { rel: ['tls', 'caCrl'], message: 'certificate revocation lists are not implemented: revoked server certificates are accepted' },
];

const rules: Readonly<Record<string, readonly Rule[]>> = {
  DestinationRule: [
    { path: ['spec', 'trafficPolicy', 'tunnel'], message: 'tunnel (HTTP CONNECT to a proxy) is not implemented: traffic goes to the destination directly' },
    { path: ['spec', 'trafficPolicy', 'proxyProtocol'], message: 'PROXY protocol to the upstream is not implemented: no PROXY header is sent' },
    ...trafficPolicies.flatMap((at) => policyRules.map((r) => ({ path: [...at, ...r.rel], message: r.message }))),
  ],
  VirtualService: [
    { path: ['spec', 'http', '*', 'retries', 'retryRemoteLocalities'], message: 'retryRemoteLocalities is not implemented: retries do not prefer other localities' },
    { path: ['spec', 'http', '*', 'retries', 'retryIgnorePreviousHosts'], message: 'retryIgnorePreviousHosts is not implemented: a retry always avoids the hosts already tried (Istio\'s default)', when: (v) => v === false },
    { path: ['spec', 'http', '*', 'fault', 'delay', 'exponentialDelay'], message: 'exponentialDelay is not implemented: no delay is injected' },
    { path: ['spec', 'http', '*', 'fault', 'abort', 'http2Error'], message: 'abort.http2Error is not implemented: no abort is injected' },
    { path: ['spec', 'http', '*', 'match', '*', 'statPrefix'], message: 'match statPrefix is not implemented: no per-route stats are kept' },
    { path: ['spec', 'tcp', '*', 'match', '*', 'destinationSubnets'], message: 'destinationSubnets is not implemented: the match ignores the destination address' },
    { path: ['spec', 'tls', '*', 'match', '*', 'destinationSubnets'], message: 'destinationSubnets is not implemented: the match ignores the destination address' },
  ],
  Sidecar: [
    { path: ['spec', 'ingress', '*', 'bind'], message: 'ingress bind is not implemented: the port is served on every address of the pod' },
    { path: ['spec', 'ingress', '*', 'captureMode'], message: 'ingress captureMode is not implemented: capture is what the pod\'s iptables rules do' },
    { path: ['spec', 'ingress', '*', 'tls'], message: 'ingress tls (the sidecar terminating the app\'s own TLS) is not implemented: the port follows PeerAuthentication only' },
    { path: ['spec', 'ingress', '*', 'connectionPool'], message: 'ingress connectionPool is not implemented: the inbound cluster has no pool limits' },
    {
      path: ['spec', 'ingress', '*', 'defaultEndpoint'],
      message: 'only 127.0.0.1:PORT, and 0.0.0.0 with the listener\'s own port, are implemented as defaultEndpoint: this one is served as the original destination',
      when: (v, listener) => typeof v !== 'string' || !(/^127\.0\.0\.1:\d+$/.test(v) || v === `0.0.0.0:${(listener as { port?: { number?: number } }).port?.number}`),
    },
    { path: ['spec', 'egress', '*', 'bind'], message: 'egress bind is not implemented: outbound listeners bind as usual' },
    { path: ['spec', 'egress', '*', 'captureMode'], message: 'egress captureMode is not implemented: capture is what the pod\'s iptables rules do' },
    { path: ['spec', 'inboundConnectionPool'], message: 'inboundConnectionPool is not implemented: inbound connections have no pool limits' },
    { path: ['spec', 'outboundTrafficPolicy', 'egressProxy'], message: 'egressProxy is not implemented: unknown destinations follow the outbound traffic mode' },
  ],
  Gateway: [
    {
      path: ['spec', 'servers', '*', 'tls', 'credentialNames'],
      message: 'several certificates on one server (credentialNames with more than one name) are not implemented for gateways: this server is not served; use credentialName',
      when: (v: unknown, tls: unknown) => Array.isArray(v) && v.length > 1 && !isPassthrough(tls) && !(tls as { credentialName?: unknown }).credentialName,
    },
    {
      path: ['spec', 'servers', '*', 'tls', 'tlsCertificates'],
      message: 'tlsCertificates are not implemented for gateways: this server is not served; use credentialName or serverCertificate/privateKey files',
      when: (_v: unknown, tls: unknown) => !isPassthrough(tls) && !(tls as { credentialName?: unknown }).credentialName,
    },
    {
      path: ['spec', 'servers', '*', 'tls', 'mode'],
      message: 'ISTIO_MUTUAL and AUTO_PASSTHROUGH are not implemented for gateways: this server is not served',
      when: (v) => v === 'ISTIO_MUTUAL' || v === 'AUTO_PASSTHROUGH',
    },
    { path: ['spec', 'servers', '*', 'tls', 'caCrl'], message: 'certificate revocation lists are not implemented: revoked client certificates are accepted' },
    { path: ['spec', 'servers', '*', 'tls', 'verifyCertificateSpki'], message: 'certificate pinning is not implemented: any client certificate the CA signed is accepted' },
    { path: ['spec', 'servers', '*', 'tls', 'verifyCertificateHash'], message: 'certificate pinning is not implemented: any client certificate the CA signed is accepted' },
    { path: ['spec', 'servers', '*', 'tls', 'caCertCredentialName'], message: 'caCertCredentialName is not implemented: the client CA comes from caCertificates only' },
    { path: ['spec', 'servers', '*', 'defaultEndpoint'], message: 'server defaultEndpoint is not implemented: the server routes by its VirtualServices only' },
    { path: ['spec', 'servers', '*', 'bind'], message: 'unix domain socket binds are not implemented for gateways: this server is not served', when: (v) => typeof v === 'string' && v.startsWith('unix://') },
  ],
  'Gateway.gateway.networking.k8s.io': [
    {
      path: ['spec', 'listeners', '*', 'tls', 'certificateRefs'],
      message: 'certificates from Kubernetes Secrets are not implemented for gateways: this listener is not served',
      when: (_v, tls) => ((tls as { mode?: unknown } | null)?.mode ?? 'Terminate') === 'Terminate',
    },
    { path: ['spec', 'listeners', '*', 'tls', 'frontendValidation'], message: 'client certificate validation is not implemented: clients are not asked for a certificate' },
    { path: ['spec', 'tls'], message: 'Gateway-level TLS settings (client validation, backend TLS) are not implemented: they are ignored' },
    { path: ['spec', 'backendTLS'], message: 'backendTLS is not implemented: the router connects to backends by the mesh\'s own TLS settings' },
    { path: ['spec', 'addresses'], message: 'addresses are not implemented: the router\'s listeners bind 0.0.0.0' },
    { path: ['spec', 'infrastructure'], message: 'infrastructure is not implemented: Trellis deploys no gateway pods; a router proxy labelled gateway.networking.k8s.io/gateway-name serves the Gateway' },
    { path: ['spec', 'allowedListeners'], message: 'ListenerSets (allowedListeners) are not implemented: only the Gateway\'s own listeners are served' },
  ],
  'GatewayClass.gateway.networking.k8s.io': [
    { path: ['spec', 'parametersRef'], message: 'parametersRef is not implemented: the class\'s Gateways are served without its parameters' },
  ],
  'HTTPRoute.gateway.networking.k8s.io': [
    { path: ['spec', 'rules', '*', 'sessionPersistence'], message: 'sessionPersistence is not implemented: requests are balanced without affinity' },
  ],
  'GRPCRoute.gateway.networking.k8s.io': [
    { path: ['spec', 'rules', '*', 'sessionPersistence'], message: 'sessionPersistence is not implemented: requests are balanced without affinity' },
  ],
  ServiceEntry: [
    {
      path: ['spec', 'addresses'],
      message: 'only the first IP address (or /32) of a ServiceEntry is used: further addresses and CIDR ranges get no listener of their own',
      when: (v) => Array.isArray(v) && v.length > 1,
    },
  ],
  Telemetry: telemetryRules,
  ...neverAppliedRules,
};

/** A gateway server's tls in a mode that uses no certificates (istiod then ignores them too). */
function isPassthrough(tls: unknown): boolean {
  const mode = (tls as { mode?: unknown } | null)?.mode ?? 'PASSTHROUGH';
  return mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
}

/** Every unsupported field set in `o`, at its own path. */
export function unsupportedFieldFindings(o: AnyObject): Finding[] {
  const list = rules[typeKey(o)];
  if (!list) return [];
  const out: Finding[] = [];
  for (const r of list) {
    for (const { path, value, parent } of matches(o, r.path)) {
      if (value === undefined || value === null) continue;
      if (r.when && !r.when(value, parent)) continue;
      out.push({ type: Unsupported, path, message: r.message });
    }
  }
  return out;
}

function matches(root: unknown, pattern: readonly string[]): { path: FieldPath; value: unknown; parent: unknown }[] {
  let at: { path: (string | number)[]; value: unknown; parent: unknown }[] = [{ path: [], value: root, parent: undefined }];
  for (const seg of pattern) {
    const next: typeof at = [];
    for (const { path, value } of at) {
      if (seg === '*') {
        if (Array.isArray(value)) value.forEach((v, i) => next.push({ path: [...path, i], value: v, parent: value }));
      } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, seg)) {
        next.push({ path: [...path, seg], value: (value as Record<string, unknown>)[seg], parent: value });
      }
    }
    at = next;
  }
  return at;
}
