/**
 * Istio's AuthorizationPolicy and PeerAuthentication rules beyond field
 * types (pkg/config/validation ValidateAuthorizationPolicy,
 * ValidatePeerAuthentication, pkg/config/security), with Istio's wording
 * where it has one. Each check returns issues relative to the value checked.
 */
import { parseIpPrefix } from '../ip-prefix.js';
import type { Issue } from './schema.js';

type Obj = Record<string, unknown>;

const list = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);
const has = (o: Obj, k: string) => (list(o[k])?.length ?? 0) > 0;

export function nonEmptyValue(s: string): string | undefined {
  return s === '' ? 'empty value not allowed' : undefined;
}

export function ipProblem(s: string): string | undefined {
  if (s === '') return 'empty value not allowed';
  if (parseIpPrefix(s)) return undefined;
  return s.includes('/') ? `bad CIDR range (${s})` : `bad IP address (${s})`;
}

export function portProblem(s: string): string | undefined {
  return /^\d+$/.test(s) && Number(s) <= 65535 ? undefined : `bad port (${s})`;
}

/** `sa` or `namespace/sa`, no wildcard. */
export function serviceAccountProblem(s: string): string | undefined {
  if (s === '') return 'empty value not allowed';
  if (s.includes('*')) return 'wildcard not allowed';
  if (s.length > 320) return 'value cannot exceed 320 characters';
  const parts = s.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) return `expected format 'serviceAccount' or 'namespace/serviceAccount', found ${JSON.stringify(s)}`;
  return undefined;
}

/** Exact, prefix (x*), suffix (*x) or presence (*): one wildcard at an end at most. */
function wildcardProblem(s: string): string | undefined {
  if (s === '') return 'empty value not allowed';
  const count = s.split('*').length - 1;
  if (count > 1) return `at most one wildcard is allowed: ${JSON.stringify(s)}`;
  if (count === 1 && s !== '*' && !s.startsWith('*') && !s.endsWith('*')) return `wildcard is only allowed at the start or end: ${JSON.stringify(s)}`;
  return undefined;
}

export function trustDomainProblem(s: string): string | undefined {
  return wildcardProblem(s) ?? (s.includes('/') ? `trust domain must not contain '/': ${JSON.stringify(s)}` : undefined);
}

const pchar = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]+$/;

/** {*} and {**} as whole segments, {**} last, nothing else in braces; with a template, only valid path characters. */
export function pathProblem(s: string): string | undefined {
  if (s === '') return 'empty value not allowed';
  const template = s.includes('{*}') || s.includes('{**}');
  let anySeen = false;
  for (const glob of s.replace(/^\/+|\/+$/g, '').split('/')) {
    if (glob === '{*}' || glob === '{**}') {
      if (anySeen) return `invalid or unsupported path ${s}: {**} is not the last operator`;
      anySeen = glob === '{**}';
      continue;
    }
    if (/[{}]/.test(glob)) return `invalid or unsupported path ${s}: contains '{' or '}' beyond a supported path template`;
    if (template && !pchar.test(glob)) return `invalid or unsupported path ${s}: contains segment ${glob} with invalid string literal`;
  }
  return undefined;
}

/** "a[b]": a name in brackets after the attribute. */
function mapKeyProblem(key: string): string | undefined {
  const open = key.indexOf('[');
  return key.endsWith(']') && open > 0 && open < key.length - 2 ? undefined : `bad key (${key}): should have format a[b]`;
}

/** What a `when` value of `key` must look like (Istio's ValidateAttribute); undefined when fine. */
function attributeProblem(key: string, values: readonly string[]): string | undefined {
  if (values.some((v) => v === '')) return 'empty value not allowed';
  const each = (f: (v: string) => string | undefined) => values.map(f).find((x) => x !== undefined);
  if (key.startsWith('request.headers') || key.startsWith('request.auth.claims') || key.startsWith('experimental.envoy.filters.')) return mapKeyProblem(key);
  switch (key) {
    case 'source.ip': case 'remote.ip': case 'destination.ip': return each(ipProblem);
    case 'destination.port': return each(portProblem);
    case 'source.serviceAccount': return values.length > 16 ? 'may not have more than 16 values' : each(serviceAccountProblem);
    case 'source.trustDomain': return each(wildcardProblem);
    case 'source.namespace': case 'source.principal': case 'request.auth.principal': case 'request.auth.audiences':
    case 'request.auth.presenter': case 'connection.sni':
      return undefined;
    case 'destination.namespace': return `attribute ${key} is replaced by the metadata.namespace`;
    case 'destination.name': case 'destination.user': return `deprecated attribute ${key}: only supported in v1alpha1`;
  }
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  return `unknown attribute: ${key}`;
}

export function conditionCheck(v: Obj): Issue[] {
  const key = typeof v['key'] === 'string' ? v['key'] : '';
  if (key === '') return [{ path: ['key'], message: '`key` must not be empty' }];
  if (!has(v, 'values') && !has(v, 'notValues')) return [{ path: [], message: `at least one of \`values\` or \`notValues\` must be set for key ${key}` }];
  const out: Issue[] = [];
  for (const f of ['values', 'notValues']) {
    const values = (list(v[f]) ?? []).filter((x): x is string => typeof x === 'string');
    const bad = values.length ? attributeProblem(key, values) : undefined;
    if (bad) out.push({ path: [f], message: `invalid \`${f === 'values' ? 'value' : 'notValue'}\` for \`key\` ${key}: ${bad}` });
  }
  return out;
}

const sourceFields = ['principals', 'requestPrincipals', 'namespaces', 'ipBlocks', 'remoteIpBlocks', 'serviceAccounts', 'trustDomains'];

export function sourceCheck(s: Obj): Issue[] {
  const all = sourceFields.flatMap((f) => [f, `not${f[0]!.toUpperCase()}${f.slice(1)}`]);
  if (!all.some((f) => has(s, f))) return [{ path: [], message: '`from.source` must not be empty' }];
  const identity = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].some((f) => has(s, f));
  if (identity && (has(s, 'serviceAccounts') || has(s, 'notServiceAccounts'))) return [{ path: [], message: 'cannot set serviceAccounts with namespaces or principals' }];
  return ['serviceAccounts', 'notServiceAccounts'].filter((f) => (list(s[f])?.length ?? 0) > 16).map((f) => ({ path: [f], message: 'may not have more than 16 values' }));
}

export function operationCheck(o: Obj): Issue[] {
  const fields = ['ports', 'methods', 'paths', 'hosts', 'notPorts', 'notMethods', 'notPaths', 'notHosts'];
  return fields.some((f) => has(o, f)) ? [] : [{ path: [], message: '`to.operation` must not be empty' }];
}

export function ruleCheck(r: Obj): Issue[] {
  const out: Issue[] = [];
  for (const f of ['from', 'to']) if (Array.isArray(r[f]) && r[f].length === 0) out.push({ path: [f], message: `\`${f}\` must not be empty` });
  return out;
}

/** What CUSTOM cannot be combined with: identity, which an external authorizer does not get from Envoy here. */
function customIssues(rules: unknown[]): Issue[] {
  const out: Issue[] = [];
  const identity = ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'];
  rules.forEach((r, i) => {
    (list((r as Obj)?.['from']) ?? []).forEach((from, j) => {
      const s = ((from as Obj)?.['source'] ?? {}) as Obj;
      for (const f of identity) if (has(s, f)) out.push({ path: ['rules', i, 'from', j, 'source', f], message: `From.${f[0]!.toUpperCase()}${f.slice(1)} is currently not supported with CUSTOM action` });
    });
    (list((r as Obj)?.['when']) ?? []).forEach((w, j) => {
      const key = String((w as Obj)?.['key'] ?? '');
      if (['source.namespace', 'source.serviceAccount', 'source.trustDomain', 'source.principal'].includes(key) || key.startsWith('request.auth.')) {
        out.push({ path: ['rules', i, 'when', j, 'key'], message: `${key} is currently not supported with CUSTOM action` });
      }
    });
  });
  return out;
}

/** selector, targetRef and targetRefs exclude each other (AuthorizationPolicy, RequestAuthentication). */
export function oneSelectorCheck(v: Obj): Issue[] {
  const selectors = [v['selector'] != null, v['targetRef'] != null, (list(v['targetRefs'])?.length ?? 0) > 0].filter(Boolean).length;
  return selectors > 1 ? [{ path: [], message: 'only one of targetRefs or workloadSelector can be set' }] : [];
}

export function authorizationPolicyCheck(v: Obj): Issue[] {
  const out: Issue[] = [];
  const rules = list(v['rules']);
  const noRules = rules === undefined || rules.length === 0;
  out.push(...oneSelectorCheck(v));
  const custom = v['action'] === 'CUSTOM';
  if (custom && v['provider'] == null) out.push({ path: ['provider'], message: 'action CUSTOM requires a provider' });
  if (!custom && v['provider'] != null) out.push({ path: ['provider'], message: 'provider is only allowed with action CUSTOM' });
  for (const action of ['CUSTOM', 'DENY']) {
    if (v['action'] === action && noRules) {
      out.push({ path: ['rules'], message: `${action} action without \`rules\` is meaningless as it will never be triggered, add an empty rule \`{}\` if you want it be triggered for every request` });
    }
  }
  if (custom && rules) out.push(...customIssues(rules));
  return out;
}

/** Istio's validateWorkloadSelector errors (an empty selector is only a warning there). */
export function selectorLabelsCheck(labels: Obj): Issue[] {
  return Object.entries(labels).flatMap(([k, val]) => {
    if (k === '') return [{ path: [k], message: `empty key is not supported in selector: "=${String(val)}"` }];
    if (k.includes('*') || String(val).includes('*')) return [{ path: [k], message: `wildcard is not supported in selector: "${k}=${String(val)}"` }];
    return [];
  });
}

const targetKinds = [['', 'Service'], ['networking.istio.io', 'ServiceEntry'], ['gateway.networking.k8s.io', 'Gateway'], ['gateway.networking.k8s.io', 'GatewayClass']];

export function targetRefCheck(t: Obj): Issue[] {
  const out: Issue[] = [];
  if (t['namespace']) out.push({ path: ['namespace'], message: 'targetRef namespace must not be set; cross namespace referencing is not supported' });
  const group = String(t['group'] ?? '') === 'core' ? '' : String(t['group'] ?? '');
  if (!targetKinds.some(([g, k]) => g === group && k === t['kind'])) {
    out.push({ path: ['kind'], message: `targetRef must be to one of Service, ServiceEntry, gateway.networking.k8s.io Gateway or GatewayClass, but was ${group}/${String(t['kind'])}` });
  }
  return out;
}

export function peerAuthenticationCheck(v: Obj): Issue[] {
  const labels = (v['selector'] as Obj | undefined)?.['matchLabels'] as Obj | undefined;
  const port = v['portLevelMtls'] as Obj | undefined;
  if (port == null) return [];
  if (!labels || Object.keys(labels).length === 0) return [{ path: ['portLevelMtls'], message: 'mesh/namespace peer authentication cannot have port level mTLS (portLevelMtls requires a workload selector)' }];
  if (Object.keys(port).length === 0) return [{ path: ['portLevelMtls'], message: 'port level mTLS, if defined, must have at least one element' }];
  return [];
}
