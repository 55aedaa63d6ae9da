/**
 * What converting the Gateway API needs from the rest of the config, and
 * what it reports: each finding names the Gateway API object and the field
 * it is about, so the analysis can place it at its file and line.
 */
import type { AnyObject, Namespace } from '../../../config/objects.js';
import type { FieldPath } from '../../../config/field-lines.js';
import type { ReferenceGrants } from './reference-grants.js';

/**
 * not-found: a referenced object does not exist (IST0101); refused: the
 * Gateway API does not let the reference take effect (a listener does not
 * allow the route, no ReferenceGrant, no hostname in common); unsupported:
 * valid config that Trellis does not implement.
 */
export type GatewayApiFindingKind = 'not-found' | 'refused' | 'unsupported';

export interface GatewayApiFinding {
  readonly object: AnyObject;
  readonly path: FieldPath;
  readonly kind: GatewayApiFindingKind;
  readonly message: string;
}

export interface ConvertContext {
  readonly domainSuffix: string;
  readonly grants: ReferenceGrants;
  readonly namespaces: readonly Namespace[];
  /** Is there a Service of this name in this namespace? */
  serviceExists(namespace: string, name: string): boolean;
  report(object: AnyObject, path: FieldPath, kind: GatewayApiFindingKind, message: string): void;
}

/** The namespace of a namespaced object ("default" when unset, as the loader defaults it). */
export const nsOf = (o: { metadata: { namespace?: string } }): string => o.metadata.namespace ?? 'default';
