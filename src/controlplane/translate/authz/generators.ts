/**
 * One generator per AuthorizationPolicy attribute (istiod's
 * security/authz/model/generator.go): a value in, an Envoy RBAC permission or
 * principal out. A generator throws HttpOnly for an HTTP attribute on a TCP
 * chain; rule-model.ts decides what that means for the action.
 */
import { create } from '@bufbuild/protobuf';
import type { Permission, Principal } from '../../../gen/envoy/config/rbac/v3/rbac_pb.js';
import type { StringMatcher } from '../../../gen/envoy/type/matcher/v3/string_pb.js';
import { ListMatcherSchema, ValueMatcherSchema, type ValueMatcher } from '../../../gen/envoy/type/matcher/v3/value_pb.js';
import {
  cidrRange,
  containsPathTemplate,
  exact,
  headerMatcher,
  hostMatcher,
  listOrValueMatcher,
  metadataMatcher,
  orValues,
  pathMatcher,
  pathTemplate,
  prefix,
  quoteMeta,
  regex,
  stringMatcher,
  stringOrValues,
  stringValue,
  suffix,
} from './matchers.js';
import { permission, principal, principalAnd, principalAuthenticated, principalOr } from './rbac-nodes.js';

export class HttpOnly extends Error {
  constructor(key: string) {
    super(`"${key}" is HTTP only`);
  }
}

/** A value → node generator (one node per value, OR-ed by the caller). */
export interface ValueGenerator<N> {
  extended?: false;
  one(key: string, value: string, forTCP: boolean): N;
}

/** A generator that turns all values into one node (JWT claims: one metadata matcher for the list). */
export interface ListGenerator<N> {
  extended: true;
  all(key: string, values: readonly string[], forTCP: boolean): N;
}

export type Generator<N> = ValueGenerator<N> | ListGenerator<N>;

const httpOnly = (key: string, forTCP: boolean) => {
  if (forTCP) throw new HttpOnly(key);
};

/** "request.headers[x-user]" → "x-user". */
export function nameInBrackets(s: string): string {
  if (!s.startsWith('[') || !s.endsWith(']')) throw new Error(`expecting format [<NAME>], but found ${s}`);
  return s.slice(1, -1);
}

/** "[a][b]" → ["a", "b"]; "[a.b]" → ["a.b"] (istiod's extractNameInNestedBrackets). */
export function namesInNestedBrackets(s: string): string[] {
  const out: string[] = [];
  for (let begin = 0; begin < s.length;) {
    const end = s[begin] === '[' ? s.indexOf(']', begin + 1) : -1;
    if (end < 0 || s.slice(begin + 1, end).includes('[')) return [nameInBrackets(s)];
    out.push(s.slice(begin + 1, end));
    begin = end + 1;
  }
  return out;
}

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new Error(`invalid port ${value}`);
  return Number(value);
}

// ---- permissions (what is asked for) ----------------------------------------

export const destIp: ValueGenerator<Permission> = { one: (_k, v) => permission({ case: 'destinationIp', value: cidrRange(v) }) };
export const destPort: ValueGenerator<Permission> = { one: (_k, v) => permission({ case: 'destinationPort', value: port(v) }) };
export const connSni: ValueGenerator<Permission> = { one: (_k, v) => permission({ case: 'requestedServerName', value: stringMatcher(v) }) };

export const host: ValueGenerator<Permission> = {
  one: (k, v, tcp) => (httpOnly(k, tcp), permission({ case: 'header', value: hostMatcher(':authority', v) })),
};
export const method: ValueGenerator<Permission> = {
  one: (k, v, tcp) => (httpOnly(k, tcp), permission({ case: 'header', value: headerMatcher(':method', v) })),
};
export const path: ValueGenerator<Permission> = {
  one: (k, v, tcp) => {
    httpOnly(k, tcp);
    return containsPathTemplate(v) ? permission({ case: 'uriTemplate', value: pathTemplate(v) }) : permission({ case: 'urlPath', value: pathMatcher(v) });
  },
};

/** "experimental.envoy.filters.a.b[c]": dynamic metadata of filter a.b at key c; "[v]" values match inside a list. */
export const envoyFilter: ListGenerator<Permission> = {
  extended: true,
  all: (key, values) => {
    const parts = key.replace(/^experimental\./, '').replace(/\]$/, '').split('[');
    if (parts.length < 2) throw new Error(`invalid key: ${key}`);
    const [filter, ...rest] = parts;
    const field = rest.join('[');
    const matchers = values.map((v): ValueMatcher => {
      if (!(v.startsWith('[') && v.endsWith(']'))) return stringValue(stringMatcher(v));
      const inner = stringValue(stringMatcher(v.slice(1, -1)));
      return create(ValueMatcherSchema, { matchPattern: { case: 'listMatch', value: create(ListMatcherSchema, { matchPattern: { case: 'oneOf', value: inner } }) } });
    });
    return permission({ case: 'metadata', value: metadataMatcher(filter!, [field], orValues(matchers)) });
  },
};

// ---- principals (who asks) --------------------------------------------------

export const srcIp: ValueGenerator<Principal> = { one: (_k, v) => principal({ case: 'directRemoteIp', value: cidrRange(v) }) };
export const remoteIp: ValueGenerator<Principal> = { one: (_k, v) => principal({ case: 'remoteIp', value: cidrRange(v) }) };

export const srcNamespace: ValueGenerator<Principal> = {
  one: (_k, v) => principalAuthenticated(regex(`.*/ns/${v.split('*').map(quoteMeta).join('.*')}/.*`)),
};

/** "sa" (the policy's namespace) or "ns/sa"; the regex also takes SPIFFE ids with more path segments. */
export function serviceAccountGenerator(policyNamespace: string): ValueGenerator<Principal> {
  return {
    one: (_k, v) => {
      const slash = v.indexOf('/');
      const [ns, sa] = slash < 0 ? [policyNamespace, v] : [v.slice(0, slash), v.slice(slash + 1)];
      return principalAuthenticated(regex(`spiffe://.+/ns/${quoteMeta(ns)}/(.+/|)sa/${quoteMeta(sa)}(/.+)?`));
    },
  };
}

export const srcTrustDomain: ValueGenerator<Principal> = {
  one: (_k, v) => {
    let m: StringMatcher;
    if (v === '*') m = prefix('spiffe://');
    else if (!v.includes('*')) m = prefix(`spiffe://${v}/`);
    else {
      const [a = '', b = ''] = [v.slice(0, v.indexOf('*')), v.slice(v.indexOf('*') + 1)];
      m = regex(`spiffe://${quoteMeta(a)}[^/]*${quoteMeta(b)}/.*`);
    }
    return principalAuthenticated(m);
  },
};

export const srcPrincipal: ValueGenerator<Principal> = { one: (_k, v) => principalAuthenticated(stringMatcher(v, 'spiffe://')) };

export const requestHeader: ValueGenerator<Principal> = {
  one: (k, v, tcp) => (httpOnly(k, tcp), principal({ case: 'header', value: headerMatcher(nameInBrackets(k.slice('request.headers'.length)), v) })),
};

// JWT: what Envoy's jwt_authn filter leaves in its dynamic metadata under "payload".
const JwtFilter = 'envoy.filters.http.jwt_authn';
const JwtPayload = 'payload';
const matchAny = () => regex('.+');

function claim(name: string, m: StringMatcher): Principal {
  return principal({ case: 'metadata', value: metadataMatcher(JwtFilter, [JwtPayload, name], stringValue(m)) });
}

/** "ISS/SUB" (the last "/" splits, issuers are URLs), each side with Istio's "*" forms. */
function issuerAndSubject(value: string): [StringMatcher, StringMatcher] {
  const idx = value.lastIndexOf('/');
  const found = idx >= 0;
  const [iss, sub] = found ? [value.slice(0, idx), value.slice(idx + 1)] : [value, ''];
  if (value === '*') return [matchAny(), matchAny()];
  if (value.startsWith('*')) {
    if (!found) return [matchAny(), suffix(value.slice(1))];
    return [iss === '*' ? matchAny() : suffix(iss.slice(1)), exact(sub)];
  }
  if (value.endsWith('*')) {
    if (!found) return [prefix(value.slice(0, -1)), matchAny()];
    return [exact(iss), sub === '*' ? matchAny() : prefix(sub.slice(0, -1))];
  }
  return [exact(iss), exact(sub)];
}

export const requestPrincipal: ListGenerator<Principal> = {
  extended: true,
  all: (k, values, tcp) => {
    httpOnly(k, tcp);
    const or = values.map((v) => {
      const [iss, sub] = issuerAndSubject(v);
      return principalAnd([claim('iss', iss), claim('sub', sub)]);
    });
    return or.length === 1 ? or[0]! : principalOr(or);
  },
};

function claimList(path: readonly string[]): ListGenerator<Principal> {
  return {
    extended: true,
    all: (k, values, tcp) => {
      httpOnly(k, tcp);
      return principal({ case: 'metadata', value: listOrValueMatcher(JwtFilter, [JwtPayload, ...path], stringOrValues(values)) });
    },
  };
}

export const requestAudiences = claimList(['aud']);
export const requestPresenter = claimList(['azp']);

export const requestClaims: ListGenerator<Principal> = {
  extended: true,
  all: (k, values, tcp) => claimList(namesInNestedBrackets(k.slice('request.auth.claims'.length))).all(k, values, tcp),
};
