/**
 * Istio's PortNameAnalyzer: a Service port whose protocol Istio cannot tell
 * — neither appProtocol nor a name like "http" or "grpc-web" says it, and it
 * is not a well-known port — is IST0118 (Istio then sniffs, or treats it as
 * TCP); on an ExternalName Service any such port, and one named "tcp", is
 * IST0150. Istio's own control plane Services (label "istio", or release
 * "istio") and the gateway Services it manages are skipped, as Istio skips
 * them.
 */
import type { Service, ServicePort } from '../../config/objects.js';
import type { Finding } from './finding.js';
import { ExternalNameServiceTypeInvalidPortName, PortNameIsNotUnderNamingConvention } from './messages.js';

const PROTOCOLS = new Set(['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql']);
/** SMTP, DNS, MySQL, MongoDB: TCP without a name (sniffing them would break them). */
const WELL_KNOWN_PORTS = new Set([25, 53, 3306, 27017]);
const KUBERNETES_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss']);

/** Istio's kube ConvertProtocol, reduced to the question asked here: can the protocol be told? */
export function protocolKnown(p: ServicePort): boolean {
  if (p.protocol === 'UDP') return true;
  const name = p.appProtocol ?? p.name ?? '';
  if (p.appProtocol !== undefined && KUBERNETES_APP_PROTOCOLS.has(name)) return true;
  if (name.toLowerCase().startsWith('grpc-web')) return true;
  const dash = name.indexOf('-');
  if (PROTOCOLS.has((dash >= 0 ? name.slice(0, dash) : name).toLowerCase())) return true;
  return WELL_KNOWN_PORTS.has(p.port);
}

/** Values of gateway.istio.io/managed on the Services Istio creates for its own gateways and waypoints. */
const MANAGED_BY_ISTIO = new Set(['istio.io-gateway-controller', 'istio.io-mesh-controller', 'istio.io-eastwest-controller']);

/** Istio's control plane and the gateway Services it manages: not written by users, not reported. */
function skipped(s: Service): boolean {
  const labels = s.metadata.labels ?? {};
  return 'istio' in labels || labels['release'] === 'istio' || MANAGED_BY_ISTIO.has(labels['gateway.istio.io/managed'] ?? '');
}

export function portNameFindings(s: Service): Finding[] {
  if (skipped(s)) return [];
  const externalName = s.spec?.type === 'ExternalName';
  const out: Finding[] = [];
  (s.spec?.ports ?? []).forEach((p, i) => {
    if (protocolKnown(p) && !(externalName && p.name === 'tcp')) return;
    const path = ['spec', 'ports', i];
    if (externalName) {
      out.push({ type: ExternalNameServiceTypeInvalidPortName, path, message: 'Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly' });
    } else {
      out.push({ type: PortNameIsNotUnderNamingConvention, path, message: `Port name ${p.name ?? ''} (port: ${p.port}, targetPort: ${p.targetPort ?? 0}) doesn't follow the naming convention of Istio port.` });
    }
  });
  return out;
}
