/**
 * GatewayClass, Gateway and ReferenceGrant (gateway.networking.k8s.io), with
 * the CRDs' rules: listeners 1..64 with unique names and unique
 * port/protocol/hostname, TLS only where the protocol has it, Terminate
 * with certificates for HTTPS, no hostname on TCP/UDP.
 */
import { topLevel } from '../common.js';
import { enumOf, map, obj, opaque, req, str, type Issue, type ObjectSchema } from '../schema.js';
import { group, hostname, kind, labelSelector, namespaceName, objectName, port, secretRef, sectionName, uniqueBy, upTo } from './common.js';

const controllerName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

export const gatewayClassSchema: ObjectSchema = topLevel({
  spec: req(
    obj({
      controllerName: req(str({ check: (s) => (controllerName.test(s) && s.length <= 253 ? undefined : `${JSON.stringify(s)} is not a domain-prefixed path (e.g. istio.io/gateway-controller)`) })),
      parametersRef: opaque(),
      description: str(),
    }),
  ),
});

const protocolPattern = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/;

const listenerTls = obj({
  mode: enumOf('Terminate', 'Passthrough'),
  certificateRefs: upTo(secretRef(), 64),
  options: map(str()),
  frontendValidation: opaque(),
});

/** The CRD's CEL rules on one listener. */
function listenerCheck(l: Record<string, unknown>): Issue[] {
  const out: Issue[] = [];
  const protocol = l['protocol'];
  const tls = l['tls'] as { mode?: string; certificateRefs?: unknown[]; options?: Record<string, string> } | undefined;
  if ((protocol === 'HTTP' || protocol === 'TCP' || protocol === 'UDP') && tls !== undefined) out.push({ path: ['tls'], message: "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']" });
  if ((protocol === 'TCP' || protocol === 'UDP') && l['hostname'] !== undefined) out.push({ path: ['hostname'], message: "hostname must not be specified for protocols ['TCP', 'UDP']" });
  if (protocol === 'HTTPS' && tls === undefined) out.push({ path: ['tls'], message: 'tls must be specified for protocols HTTPS and TLS' });
  if (protocol === 'HTTPS' && tls !== undefined && (tls.mode ?? 'Terminate') !== 'Terminate') out.push({ path: ['tls', 'mode'], message: 'tls mode must be Terminate for protocol HTTPS' });
  if (tls !== undefined && (tls.mode ?? 'Terminate') === 'Terminate' && (tls.certificateRefs ?? []).length === 0 && Object.keys(tls.options ?? {}).length === 0) {
    out.push({ path: ['tls', 'certificateRefs'], message: 'certificateRefs or options must be specified when mode is Terminate' });
  }
  return out;
}

const listener = obj(
  {
    name: req(sectionName()),
    hostname: hostname(),
    port: req(port()),
    protocol: req(str({ check: (s) => (protocolPattern.test(s) ? undefined : `${JSON.stringify(s)} is not a valid protocol`) })),
    tls: listenerTls,
    allowedRoutes: obj({
      namespaces: obj(
        { from: enumOf('All', 'Same', 'Selector'), selector: labelSelector() },
        (n) => (n['from'] === 'Selector' && n['selector'] === undefined ? [{ path: ['selector'], message: 'selector must be specified when from is Selector' }] : []),
      ),
      kinds: upTo(obj({ group: group(), kind: req(kind()) }), 8),
    }),
  },
  listenerCheck,
);

const listeners = upTo(listener, 64, 1, (list) => [
  ...uniqueBy((l) => l['name'], 'Listener name must be unique within the Gateway')(list),
  ...uniqueBy((l) => [l['port'], l['protocol'], l['hostname'] ?? ''], 'Combination of port, protocol and hostname must be unique for each listener')(list),
]);

export const kubernetesGatewaySchema: ObjectSchema = topLevel({
  spec: req(
    obj({
      gatewayClassName: req(objectName()),
      listeners: req(listeners),
      addresses: upTo(obj({ type: str(), value: str() }), 16),
      infrastructure: opaque(),
      backendTLS: opaque(),
      allowedListeners: opaque(),
      tls: opaque(),
    }),
  ),
});

export const referenceGrantSchema: ObjectSchema = topLevel({
  spec: req(
    obj({
      from: req(upTo(obj({ group: req(group()), kind: req(kind()), namespace: req(namespaceName()) }), 16, 1)),
      to: req(upTo(obj({ group: req(group()), kind: req(kind()), name: objectName() }), 16, 1)),
    }),
  ),
});
