/**
 * AuthorizationPolicy → Envoy RBAC filters for one workload (istiod's
 * security/authz/builder). Pure: the policies that select the workload, in
 * istiod's order (root namespace first, then oldest first), and the mesh's
 * trust domain in; the filters of its inbound HTTP and TCP chains out.
 */
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import type { AuthorizationPolicy } from '../../../config/objects.js';
import { FilterSchema, type Filter } from '../../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { PolicySchema, RBACSchema, RBAC_Action, type Policy, type RBAC } from '../../../gen/envoy/config/rbac/v3/rbac_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../../../gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { FilterName } from '../hcm.js';
import { permissionAny, permissionNot, principalAny, principalNot } from './rbac-nodes.js';
import { generatePolicy, ruleModel } from './rule-model.js';

/** istiod's stat prefixes: TCP RBAC stats, and the shadow (dry-run) engine's by action. */
export const TcpRbacStatPrefix = 'tcp.';
export const DryRunAllowStatPrefix = 'istio_dry_run_allow_';
export const DryRunDenyStatPrefix = 'istio_dry_run_deny_';
/** An annotation that evaluates a policy without enforcing it (Envoy's shadow rules). */
export const DryRunAnnotation = 'istio.io/dry-run';
const ExtAuthzPrefix = 'istio-ext-authz';
const BadCustomSuffix = '-deny-due-to-bad-CUSTOM-action';

export interface AuthzFilters {
  http: HttpFilter[];
  tcp: Filter[];
}

/** "ns[foo]-policy[httpbin]-rule[0]"; a CUSTOM policy's carries "istio-ext-authz-PROVIDER-" in front. */
export function policyName(namespace: string, name: string, rule: number, provider?: string): string {
  const pfx = provider === undefined ? '' : `${ExtAuthzPrefix}-${provider}-`;
  return `${pfx}ns[${namespace}]-policy[${name}]-rule[${rule}]`;
}

/** A policy with no rules: in istiod, a permission and a principal that nothing satisfies. */
function matchNever(): Policy {
  return create(PolicySchema, { permissions: [permissionNot(permissionAny())], principals: [principalNot(principalAny())] });
}

export function isDryRun(p: AuthorizationPolicy): boolean {
  // Go's strconv.ParseBool: anything else is false (and logged by istiod).
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(p.metadata.annotations?.[DryRunAnnotation] ?? '');
}

interface Built {
  rules?: RBAC;
  shadowRules?: RBAC;
}

/**
 * The RBAC engines for the policies of one action: enforced ones in `rules`,
 * dry-run ones in `shadowRules`; each rule i of a policy a named Envoy
 * policy. A rule that cannot be expressed on this chain (see rule-model's
 * `attempt`) is left out.
 */
function buildRules(policies: readonly AuthorizationPolicy[], action: RBAC_Action, forTCP: boolean, trustDomains: readonly string[], provider?: (p: AuthorizationPolicy) => string): Built | undefined {
  if (policies.length === 0) return undefined;
  const enforce = create(RBACSchema, { action, policies: {} });
  const shadow = create(RBACSchema, { action, policies: {} });
  let enforced = false;
  let dryRun = false;
  for (const p of policies) {
    const ns = p.metadata.namespace ?? 'default';
    const target = isDryRun(p) ? shadow : enforce;
    if (target === shadow) dryRun = true;
    else enforced = true;
    const rules = p.spec.rules ?? [];
    rules.forEach((rule, i) => {
      const name = policyName(ns, p.metadata.name, i, provider?.(p));
      try {
        target.policies[name] = generatePolicy(ruleModel(rule, ns, trustDomains), forTCP, action);
      } catch {
        // istiod logs and skips the rule; for ALLOW that allows less, the safe side.
      }
    });
    if (rules.length === 0) target.policies[policyName(ns, p.metadata.name, 0, provider?.(p))] = matchNever();
  }
  return { rules: enforced ? enforce : undefined, shadowRules: dryRun ? shadow : undefined };
}

function shadowStatPrefix(b: Built): string {
  // istiod reads the action of possibly absent shadow rules: ALLOW's prefix unless they are DENY.
  return b.shadowRules?.action === RBAC_Action.DENY ? DryRunDenyStatPrefix : DryRunAllowStatPrefix;
}

function httpFilter(rbac: Parameters<typeof create<typeof HttpRbacSchema>>[1]): HttpFilter {
  return create(HttpFilterSchema, { name: FilterName.httpRbac, configType: { case: 'typedConfig', value: anyPack(HttpRbacSchema, create(HttpRbacSchema, rbac)) } });
}

function networkFilter(rbac: Parameters<typeof create<typeof NetworkRbacSchema>>[1]): Filter {
  return create(FilterSchema, { name: FilterName.networkRbac, configType: { case: 'typedConfig', value: anyPack(NetworkRbacSchema, create(NetworkRbacSchema, { statPrefix: TcpRbacStatPrefix, ...rbac })) } });
}

/**
 * CUSTOM delegates to an ext_authz provider of the mesh config; Trellis has
 * none, which istiod treats as a provider it cannot find: the requests the
 * CUSTOM rules would have sent to the provider are denied, never let through.
 * One DENY filter per provider name, in name order.
 */
function customDeny(custom: readonly AuthorizationPolicy[], forTCP: boolean, trustDomains: readonly string[]): RBAC[] {
  const providers = [...new Set(custom.map((p) => p.spec.provider?.name ?? ''))].sort();
  const out: RBAC[] = [];
  for (const provider of providers) {
    const mine = custom.filter((p) => (p.spec.provider?.name ?? '') === provider && !isDryRun(p));
    const built = buildRules(mine, RBAC_Action.DENY, forTCP, trustDomains, () => provider);
    const deny = create(RBACSchema, { action: RBAC_Action.DENY, policies: {} });
    for (const [name, policy] of Object.entries(built?.rules?.policies ?? {})) deny.policies[name + BadCustomSuffix] = policy;
    out.push(deny);
  }
  return out;
}

function byAction(policies: readonly AuthorizationPolicy[]) {
  const of = (a: string) => policies.filter((p) => (p.spec.action ?? 'ALLOW') === a);
  return { custom: of('CUSTOM'), audit: of('AUDIT'), deny: of('DENY'), allow: of('ALLOW') };
}

/**
 * The workload's RBAC filters, in istiod's order: CUSTOM (as DENY, see
 * customDeny), then AUDIT (action LOG), DENY and ALLOW, one filter each.
 * Envoy runs them in that order, so any DENY match denies, and when an ALLOW
 * filter exists a request must match one of its policies. No policy, no filter.
 */
export function buildAuthzFilters(policies: readonly AuthorizationPolicy[], trustDomain: string): AuthzFilters {
  const tds = [trustDomain];
  const a = byAction(policies);
  const out: AuthzFilters = { http: [], tcp: [] };
  for (const forTCP of [false, true]) {
    for (const deny of customDeny(a.custom, forTCP, tds)) {
      if (forTCP) out.tcp.push(networkFilter({ rules: deny }));
      else out.http.push(httpFilter({ rules: deny }));
    }
    for (const [list, action] of [[a.audit, RBAC_Action.LOG], [a.deny, RBAC_Action.DENY], [a.allow, RBAC_Action.ALLOW]] as const) {
      const b = buildRules(list, action, forTCP, tds);
      if (!b) continue;
      const rbac = { rules: b.rules, shadowRules: b.shadowRules, shadowRulesStatPrefix: shadowStatPrefix(b) };
      if (forTCP) out.tcp.push(networkFilter(rbac));
      else out.http.push(httpFilter(rbac));
    }
  }
  return out;
}
