/**
 * One envoy.config.rbac.v3.RBAC: its action and its policies, compiled once.
 * Policies are tried in the byte order of their names (Envoy keeps them in a
 * std::map) and the first that matches is the one reported.
 */
import { RBAC_Action, type RBAC } from '../../../gen/envoy/config/rbac/v3/rbac_pb.js';
import { compilePermission, compilePrincipal, type RbacPredicate } from './matchers.js';
import type { RbacInput } from './rbac-input.js';

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

export interface RbacEngine {
  action: RbacAction;
  policies: ReadonlyArray<{ name: string; matches: RbacPredicate }>;
}

export interface EngineResult {
  /** ALLOW: a policy matched; DENY: none did; LOG: always. */
  allowed: boolean;
  /** The first matching policy, '' when none matched. */
  policy: string;
}

const ACTIONS: Record<number, RbacAction | undefined> = { [RBAC_Action.ALLOW]: 'ALLOW', [RBAC_Action.DENY]: 'DENY', [RBAC_Action.LOG]: 'LOG' };

export function compileEngine(r: RBAC, path: string, errors: string[], notes: string[]): RbacEngine {
  const action = ACTIONS[r.action];
  if (!action) errors.push(`${path}.action: unknown action ${r.action}`);
  if (r.auditLoggingOptions && r.auditLoggingOptions.loggerConfigs.length > 0) errors.push(`${path}.auditLoggingOptions.loggerConfigs: audit loggers are not supported`);
  const names = Object.keys(r.policies).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const policies = names.map((name) => {
    const p = r.policies[name];
    const at = `${path}.policies[${JSON.stringify(name)}]`;
    if (p.condition || p.checkedCondition) errors.push(`${at}.condition: CEL conditions are not supported`);
    if (p.permissions.length === 0) errors.push(`${at}.permissions: empty (at least one is required)`);
    if (p.principals.length === 0) errors.push(`${at}.principals: empty (at least one is required)`);
    const perms = p.permissions.map((x, i) => compilePermission(x, `${at}.permissions[${i}]`, errors, notes));
    const ids = p.principals.map((x, i) => compilePrincipal(x, `${at}.principals[${i}]`, errors, notes));
    const matches: RbacPredicate = (input) => anyOf(perms, input) && anyOf(ids, input);
    return { name, matches };
  });
  return { action: action ?? 'ALLOW', policies };
}

function anyOf(ps: RbacPredicate[], i: RbacInput): boolean {
  for (let k = 0; k < ps.length; k++) if (ps[k](i)) return true;
  return false;
}

export function evaluate(e: RbacEngine, i: RbacInput): EngineResult {
  let policy = '';
  let matched = false;
  for (const p of e.policies) {
    if (p.matches(i)) {
      policy = p.name;
      matched = true;
      break;
    }
  }
  return { allowed: e.action === 'ALLOW' ? matched : e.action === 'DENY' ? !matched : true, policy };
}
