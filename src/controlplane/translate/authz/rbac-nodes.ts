/** Constructors for Envoy RBAC permissions and principals (the tree istiod builds). */
import { create } from '@bufbuild/protobuf';
import {
  PermissionSchema,
  Permission_SetSchema,
  PrincipalSchema,
  Principal_AuthenticatedSchema,
  Principal_SetSchema,
  type Permission,
  type Principal,
} from '../../../gen/envoy/config/rbac/v3/rbac_pb.js';
import type { StringMatcher } from '../../../gen/envoy/type/matcher/v3/string_pb.js';

export const permission = (rule: Permission['rule']): Permission => create(PermissionSchema, { rule });
export const principal = (identifier: Principal['identifier']): Principal => create(PrincipalSchema, { identifier });

export const permissionAny = (): Permission => permission({ case: 'any', value: true });
export const permissionAnd = (rules: Permission[]): Permission => permission({ case: 'andRules', value: create(Permission_SetSchema, { rules }) });
export const permissionOr = (rules: Permission[]): Permission => permission({ case: 'orRules', value: create(Permission_SetSchema, { rules }) });
export const permissionNot = (p: Permission): Permission => permission({ case: 'notRule', value: p });

export const principalAny = (): Principal => principal({ case: 'any', value: true });
export const principalAnd = (ids: Principal[]): Principal => principal({ case: 'andIds', value: create(Principal_SetSchema, { ids }) });
export const principalOr = (ids: Principal[]): Principal => principal({ case: 'orIds', value: create(Principal_SetSchema, { ids }) });
export const principalNot = (p: Principal): Principal => principal({ case: 'notId', value: p });

/** The peer's certificate (URI SAN, else subject) as the sidecar's mTLS handshake authenticated it. */
export function principalAuthenticated(name: StringMatcher): Principal {
  return principal({ case: 'authenticated', value: create(Principal_AuthenticatedSchema, { principalName: name }) });
}
