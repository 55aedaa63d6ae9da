/**
 * PeerAuthentication for ambient workloads, as istiod converts it into
 * Authorizations: a workload whose mode is STRICT on every port names one
 * shared DENY policy, "istio_converted_static_strict" in the root namespace
 * (deny a connection without a peer identity); a workload policy with
 * port-level exceptions becomes "converted_peer_authentication_NAME" in its
 * namespace (the same denial, limited to the strict ports). PERMISSIVE and
 * DISABLE need nothing: the node proxy accepts both.
 */
import { create } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import type { Pod } from '../../../config/objects.js';
import { Action, AuthorizationSchema, ClauseSchema, MatchSchema, RuleSchema, Scope, StringMatchSchema, type Authorization, type Clause } from '../../../gen/workloadapi/security/authorization_pb.js';
import { composePeerAuthentication } from '../../registry/peer-authentication.js';
import type { MeshModel } from '../../registry/model.js';

export const STATIC_STRICT = 'istio_converted_static_strict';
const CONVERTED_PREFIX = 'converted_peer_authentication_';

/** "No peer identity" (plain text): what STRICT refuses. */
const noIdentity = () => ({ notPrincipals: [create(StringMatchSchema, { matchType: { case: 'presence', value: create(EmptySchema) } })] });
const clause = (m: Parameters<typeof create<typeof MatchSchema>>[1]): Clause => create(ClauseSchema, { matches: [create(MatchSchema, m)] });

function deny(name: string, namespace: string, rules: Clause[][]): Authorization {
  return create(AuthorizationSchema, { name, namespace, scope: Scope.WORKLOAD_SELECTOR, action: Action.DENY, rules: rules.map((clauses) => create(RuleSchema, { clauses })) });
}

/** The Authorization a pod's PeerAuthentications make it name, if any. */
export function peerAuthenticationPolicy(model: MeshModel, pod: Pod): Authorization | undefined {
  const namespace = pod.metadata.namespace ?? 'default';
  const labels = pod.metadata.labels ?? {};
  const e = composePeerAuthentication(model.rootNamespace, model.peerAuthenticationsFor(namespace, labels), { namespace, labels });
  const strict = e.mode === 'STRICT';
  const exceptions = [...e.perPort].filter(([, mode]) => (mode === 'STRICT') !== strict).map(([port]) => port).sort((a, b) => a - b);
  if (exceptions.length === 0) return strict ? deny(STATIC_STRICT, model.rootNamespace, [[clause(noIdentity())]]) : undefined;
  const pa = e.workload!;
  const name = CONVERTED_PREFIX + pa.metadata.name;
  const paNamespace = pa.metadata.namespace ?? 'default';
  // STRICT but for some ports: deny plain text unless it is to one of them. Else: deny plain text to each strict port.
  if (strict) return deny(name, paNamespace, [[clause(noIdentity()), clause({ notDestinationPorts: exceptions })]]);
  return deny(name, paNamespace, exceptions.map((port) => [clause({ ...noIdentity(), destinationPorts: [port] })]));
}
