/**
 * RBAC Permissions and Principals (envoy.config.rbac.v3) compiled once into
 * predicates, with Envoy's semantics. Metadata matchers read the request's
 * dynamic metadata (metadata-match.ts: JWT authentication's payload); what
 * needs a filter this proxy does not have (filter state) is evaluated
 * against the empty state it would see, which is decided at compile time; what cannot be evaluated at all (extension matchers, URI
 * templates) is refused with its field path.
 */
import { isIPv4 } from 'node:net';
import type { Permission, Principal } from '../../../gen/envoy/config/rbac/v3/rbac_pb.js';
import type { CidrRange } from '../../../gen/envoy/config/core/v3/address_pb.js';
import type { PathMatcher } from '../../../gen/envoy/type/matcher/v3/path_pb.js';
import type { MetadataMatcher as MetadataMatcherMsg } from '../../../gen/envoy/type/matcher/v3/metadata_pb.js';
import { ipToBigInt } from '../../listener/chain-match.js';
import { compileHeaderMatcher } from '../../router/route-match.js';
import { compileStringMatcher } from '../../router/string-match.js';
import { compileMetadataMatcher } from './metadata-match.js';
import type { RbacInput } from './rbac-input.js';

export type RbacPredicate = (i: RbacInput) => boolean;

/** Nesting deeper than this is refused: the evaluator recurses, and no generator nests this far. */
const MAX_DEPTH = 64;
const always: RbacPredicate = () => true;
const never: RbacPredicate = () => false;

function and(ps: RbacPredicate[]): RbacPredicate {
  return (i) => {
    for (let k = 0; k < ps.length; k++) if (!ps[k](i)) return false;
    return true;
  };
}

function or(ps: RbacPredicate[]): RbacPredicate {
  return (i) => {
    for (let k = 0; k < ps.length; k++) if (ps[k](i)) return true;
    return false;
  };
}

/** Envoy's CidrRange: an unset prefix_len is 0, and an address only matches a range of its own IP version. */
export function compileCidr(c: CidrRange | undefined, path: string, errors: string[]): ((ip: string) => boolean) | undefined {
  const base = c ? ipToBigInt(c.addressPrefix) : undefined;
  if (!c || base === undefined) {
    errors.push(`${path}.addressPrefix: invalid address ${JSON.stringify(c?.addressPrefix ?? '')}`);
    return undefined;
  }
  const v4 = isIPv4(c.addressPrefix);
  const bits = v4 ? 32 : 128;
  const len = c.prefixLen ?? 0;
  if (len > bits) {
    errors.push(`${path}.prefixLen: ${len} is longer than the address (${bits} bits)`);
    return undefined;
  }
  const shift = BigInt(bits - len);
  const want = base >> shift;
  return (ip) => {
    if (isIPv4(ip) !== v4) return false;
    const v = ipToBigInt(ip);
    return v !== undefined && v >> shift === want;
  };
}

function metadataMatcher(m: MetadataMatcherMsg, path: string, errors: string[]): RbacPredicate {
  const c = compileMetadataMatcher(m, path, errors);
  return (i) => c.match(i.metadata);
}

function ipMatcher(c: CidrRange, path: string, errors: string[], pick: (i: RbacInput) => string): RbacPredicate {
  const m = compileCidr(c, path, errors);
  return m ? (i) => m(pick(i)) : never;
}

function pathMatcher(p: PathMatcher, path: string, errors: string[]): RbacPredicate {
  if (p.rule.case !== 'path') {
    errors.push(`${path}.path: missing`);
    return never;
  }
  const m = compileStringMatcher(p.rule.value, `${path}.path`, errors);
  return (i) => i.http && m(i.path);
}

export function compilePermission(p: Permission, path: string, errors: string[], notes: string[], depth = 0): RbacPredicate {
  if (depth > MAX_DEPTH) {
    errors.push(`${path}: nested deeper than ${MAX_DEPTH}`);
    return never;
  }
  const r = p.rule;
  const sub = (x: Permission, at: string) => compilePermission(x, at, errors, notes, depth + 1);
  switch (r.case) {
    case 'andRules': return set(r.value.rules.map((x, k) => sub(x, `${path}.andRules.rules[${k}]`)), `${path}.andRules.rules`, errors, and);
    case 'orRules': return set(r.value.rules.map((x, k) => sub(x, `${path}.orRules.rules[${k}]`)), `${path}.orRules.rules`, errors, or);
    case 'notRule': { const m = sub(r.value, `${path}.notRule`); return (i) => !m(i); }
    case 'any': return always;
    case 'header': return compileHeaderMatcher(r.value, `${path}.header`, errors);
    case 'urlPath': return pathMatcher(r.value, `${path}.urlPath`, errors);
    case 'destinationIp': return ipMatcher(r.value, `${path}.destinationIp`, errors, (i) => i.conn.originalDst.address);
    case 'destinationPort': {
      const port = r.value;
      if (port > 65535) errors.push(`${path}.destinationPort: ${port} is not a port`);
      return (i) => i.conn.originalDst.port === port;
    }
    case 'destinationPortRange': {
      const { start, end } = r.value;
      if (start < 0 || start > 65536 || end < 0 || end > 65536 || start >= end) errors.push(`${path}.destinationPortRange: [${start}, ${end}) is not a port range`);
      return (i) => start <= i.conn.originalDst.port && i.conn.originalDst.port < end;
    }
    case 'requestedServerName': {
      const m = compileStringMatcher(r.value, `${path}.requestedServerName`, errors);
      return (i) => m(i.conn.serverName);
    }
    case 'metadata': return metadataMatcher(r.value, `${path}.metadata`, errors);
    default:
      errors.push(`${path}: unsupported permission ${r.case ?? '(none set)'}`);
      return never;
  }
}

export function compilePrincipal(p: Principal, path: string, errors: string[], notes: string[], depth = 0): RbacPredicate {
  if (depth > MAX_DEPTH) {
    errors.push(`${path}: nested deeper than ${MAX_DEPTH}`);
    return never;
  }
  const id = p.identifier;
  const sub = (x: Principal, at: string) => compilePrincipal(x, at, errors, notes, depth + 1);
  switch (id.case) {
    case 'andIds': return set(id.value.ids.map((x, k) => sub(x, `${path}.andIds.ids[${k}]`)), `${path}.andIds.ids`, errors, and);
    case 'orIds': return set(id.value.ids.map((x, k) => sub(x, `${path}.orIds.ids[${k}]`)), `${path}.orIds.ids`, errors, or);
    case 'notId': { const m = sub(id.value, `${path}.notId`); return (i) => !m(i); }
    case 'any': return always;
    case 'authenticated': return authenticated(id.value.principalName ? compileStringMatcher(id.value.principalName, `${path}.authenticated.principalName`, errors) : undefined);
    // source_ip is the connection's remote address; without PROXY protocol or XFF all three are the physical peer.
    case 'sourceIp': return ipMatcher(id.value, `${path}.sourceIp`, errors, (i) => i.conn.remoteIp);
    case 'directRemoteIp': return ipMatcher(id.value, `${path}.directRemoteIp`, errors, (i) => i.conn.remoteIp);
    case 'remoteIp': return ipMatcher(id.value, `${path}.remoteIp`, errors, (i) => i.conn.remoteIp);
    case 'header': return compileHeaderMatcher(id.value, `${path}.header`, errors);
    case 'urlPath': return pathMatcher(id.value, `${path}.urlPath`, errors);
    case 'metadata': return metadataMatcher(id.value, `${path}.metadata`, errors);
    case 'filterState':
      // No filter here writes filter state: Envoy's matcher is false for a key that is not there.
      notes.push(`${path}.filterState: filter state ${id.value.key} is never set here: the matcher is always false`);
      return never;
    default:
      errors.push(`${path}: unsupported principal ${id.case ?? '(none set)'}`);
      return never;
  }
}

/**
 * Envoy's AuthenticatedMatcher: a TLS connection (ssl() set); with a
 * principal_name, any URI SAN, then any DNS SAN, then the subject must match.
 */
function authenticated(name: ((v: string) => boolean) | undefined): RbacPredicate {
  return (i) => {
    const t = i.conn.tls;
    if (!t) return false;
    if (!name) return true;
    for (const u of t.uriSans) if (name(u)) return true;
    for (const d of t.dnsSans) if (name(d)) return true;
    return name(t.subject);
  };
}

function set(ps: RbacPredicate[], path: string, errors: string[], combine: (ps: RbacPredicate[]) => RbacPredicate): RbacPredicate {
  if (ps.length === 0) errors.push(`${path}: empty (at least one is required)`);
  return ps.length === 1 ? ps[0] : combine(ps);
}
