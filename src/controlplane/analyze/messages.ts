/**
 * The Istio analyzer messages Trellis reports, with Istio's code, name, level
 * and wording (istio/istio pkg/config/analysis/msg/messages.yaml), so that
 * what `istioctl analyze` users search for and grep in logs carries over.
 */
import type { ConfigProblem } from '../../config/config-problem.js';

export interface MessageType {
  readonly code: ConfigProblem['code'];
  readonly name: NonNullable<ConfigProblem['name']>;
  readonly severity: NonNullable<ConfigProblem['severity']>;
}

/** IST0101: "A resource being referenced does not exist." */
export const ReferencedResourceNotFound: MessageType = { code: 'IST0101', name: 'ReferencedResourceNotFound', severity: 'Error' };
/** IST0109: VirtualServices for the mesh gateway (sidecars) that define the same host: only one of them is used. */
export const ConflictingMeshGatewayVirtualServiceHosts: MessageType = { code: 'IST0109', name: 'ConflictingMeshGatewayVirtualServiceHosts', severity: 'Error' };
/** IST0118: a Service port whose protocol can be read from neither its name nor its appProtocol. */
export const PortNameIsNotUnderNamingConvention: MessageType = { code: 'IST0118', name: 'PortNameIsNotUnderNamingConvention', severity: 'Info' };
/** IST0150: an ExternalName Service's port named "tcp" (or not named for a protocol). */
export const ExternalNameServiceTypeInvalidPortName: MessageType = { code: 'IST0150', name: 'ExternalNameServiceTypeInvalidPortName', severity: 'Warning' };
/**
 * Trellis' own: Istio has no analyzer for several PeerAuthentications at one
 * level; the oldest silently wins, which is rarely what was meant.
 */
export const MultiplePeerAuthenticationsWithoutWorkloadSelectors: MessageType = { code: 'TRL0001', name: 'MultiplePeerAuthenticationsWithoutWorkloadSelectors', severity: 'Warning' };
export const ConflictingPeerAuthenticationWorkloadSelectors: MessageType = { code: 'TRL0002', name: 'ConflictingPeerAuthenticationWorkloadSelectors', severity: 'Warning' };
/**
 * Trellis' own: a Gateway API reference the API's rules refuse (a listener
 * that does not allow the route, no ReferenceGrant, no hostname in common).
 * istiod says it only in the objects' status conditions, which a directory
 * of files does not have.
 */
export const GatewayApiReferenceRefused: MessageType = { code: 'TRL0003', name: 'GatewayApiReferenceRefused', severity: 'Warning' };

/**
 * Trellis' own: an istio.io/use-waypoint that does not simply bind. istiod
 * says it only in the istio.io/WaypointBound condition of the Service or
 * Pod (same reasons and wording), which a directory of files does not have.
 */
export const WaypointNotBound: MessageType = { code: 'TRL0004', name: 'WaypointNotBound', severity: 'Error' };

/** Not an Istio message: valid Istio config that Trellis does not implement; the reason says what it does instead. */
export const Unsupported: MessageType = { code: 'CONFIG_UNSUPPORTED', name: 'Unsupported', severity: 'Warning' };

/** An IST0101 message with Istio's template, "Referenced %s not found: %q". */
export function referencedResourceNotFound(reftype: string, refval: string): { type: MessageType; message: string } {
  return { type: ReferencedResourceNotFound, message: `Referenced ${reftype} not found: ${goQuote(refval)}` };
}

const escapes: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's %q (strconv.Quote): printable characters as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (escapes[ch] !== undefined) out += escapes[ch];
    else if (printable.test(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}
