/**
 * The RBAC engine against Envoy's semantics, one rule kind at a time; the
 * filters with the real proxy are in test/integration/proxy/rbac*.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { RBACSchema, RBAC_Action, type PermissionSchema, type PrincipalSchema } from '../../../src/gen/envoy/config/rbac/v3/rbac_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../../src/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../../../src/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { compileEngine, evaluate } from '../../../src/proxy/filters/rbac/rbac-engine.js';
import { compileHttpRbac, compileNetworkRbac, decide, responseDetail } from '../../../src/proxy/filters/rbac/rbac-filter.js';
import { httpInput, networkInput, type RbacConnection, type RbacInput } from '../../../src/proxy/filters/rbac/rbac-input.js';
import type { DynamicMetadata } from '../../../src/proxy/filters/rbac/metadata-match.js';
import type { TlsPeer } from '../../../src/proxy/tls/peer-identity.js';
import type { ConnContext } from '../../../src/proxy/listener/conn-context.js';
import type { DownstreamRequest } from '../../../src/proxy/codec/downstream.js';

type Perm = MessageInitShape<typeof PermissionSchema>;
type Prin = MessageInitShape<typeof PrincipalSchema>;

const ANY_PERM: Perm = { rule: { case: 'any', value: true } };
const ANY_ID: Prin = { identifier: { case: 'any', value: true } };

function peer(o: Partial<TlsPeer> = {}): TlsPeer {
  return { presented: true, uriSans: [], dnsSans: [], subject: '', localUriSans: () => [], sha256: () => '', pem: () => '', chainPem: () => '', ...o };
}

function conn(o: Partial<RbacConnection> = {}): RbacConnection {
  return { remoteIp: '10.1.2.3', originalDst: { address: '10.9.9.9', port: 8080 }, serverName: '', tls: undefined, ...o };
}

function req(o: { method?: string; url?: string; headers?: Record<string, string>; h2?: boolean; metadata?: DynamicMetadata } = {}, c: RbacConnection = conn()): RbacInput {
  const url = o.url ?? '/';
  const q = url.indexOf('?');
  const r = { method: o.method ?? 'GET', url, headers: { host: 'app.ns:8080', ...o.headers }, httpVersionMajor: o.h2 ? 2 : 1 } as unknown as DownstreamRequest;
  return httpInput(r, c as ConnContext, { path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: r.headers as Record<string, string> }, o.metadata);
}

/** One policy "p" with the given permission and principal, under `action`. */
function engine(perm: Perm, id: Prin, action = RBAC_Action.ALLOW) {
  const errors: string[] = [];
  const e = compileEngine(create(RBACSchema, { action, policies: { p: { permissions: [perm], principals: [id] } } }), 'rules', errors, []);
  assert.deepEqual(errors, []);
  return (i: RbacInput) => evaluate(e, i).allowed;
}

const permOnly = (perm: Perm) => engine(perm, ANY_ID);
const idOnly = (id: Prin) => engine(ANY_PERM, id);

describe('RBAC engine: actions and policy order', () => {
  test('ALLOW allows only what a policy matches; DENY denies it; LOG allows everything', () => {
    const get: Perm = { rule: { case: 'header', value: { name: ':method', headerMatchSpecifier: { case: 'exactMatch', value: 'GET' } } } };
    assert.equal(engine(get, ANY_ID)(req()), true);
    assert.equal(engine(get, ANY_ID)(req({ method: 'POST' })), false);
    assert.equal(engine(get, ANY_ID, RBAC_Action.DENY)(req()), false);
    assert.equal(engine(get, ANY_ID, RBAC_Action.DENY)(req({ method: 'POST' })), true);
    assert.equal(engine(get, ANY_ID, RBAC_Action.LOG)(req({ method: 'POST' })), true);
  });

  test('an ALLOW without policies denies everything (Istio\'s allow-nothing)', () => {
    const e = compileEngine(create(RBACSchema, { action: RBAC_Action.ALLOW }), 'rules', [], []);
    assert.deepEqual(evaluate(e, req()), { allowed: false, policy: '' });
  });

  test('policies are tried in byte order of their names; the first match is reported', () => {
    const e = compileEngine(create(RBACSchema, {
      action: RBAC_Action.DENY,
      policies: { 'ns[b]-rule[0]': { permissions: [ANY_PERM], principals: [ANY_ID] }, 'ns[a]-rule[1]': { permissions: [ANY_PERM], principals: [ANY_ID] }, 'Z': { permissions: [ANY_PERM], principals: [ANY_ID] } },
    }), 'rules', [], []);
    assert.deepEqual(evaluate(e, req()), { allowed: false, policy: 'Z' });
  });

  test('a policy needs one permission and one principal to match', () => {
    const e = compileEngine(create(RBACSchema, {
      action: RBAC_Action.ALLOW,
      policies: { p: { permissions: [{ rule: { case: 'destinationPort', value: 1 } }, { rule: { case: 'destinationPort', value: 8080 } }], principals: [{ identifier: { case: 'remoteIp', value: { addressPrefix: '192.168.0.0', prefixLen: 16 } } }] } },
    }), 'rules', [], []);
    assert.equal(evaluate(e, req()).allowed, false);
    assert.equal(evaluate(e, req({}, conn({ remoteIp: '192.168.4.4' }))).allowed, true);
  });
});

describe('RBAC principals', () => {
  const name = (value: string): Prin => ({ identifier: { case: 'authenticated', value: { principalName: { matchPattern: { case: 'exact', value } } } } });

  test('authenticated: the URI SANs, then the DNS SANs, then the subject; never on plaintext', () => {
    const spiffe = 'spiffe://cluster.local/ns/foo/sa/sleep';
    const tls = conn({ tls: peer({ uriSans: ['spiffe://other', spiffe], dnsSans: ['a.example'], subject: 'CN=x,O=y' }) });
    assert.equal(idOnly(name(spiffe))(req({}, tls)), true);
    assert.equal(idOnly(name('a.example'))(req({}, tls)), true);
    assert.equal(idOnly(name('CN=x,O=y'))(req({}, tls)), true);
    assert.equal(idOnly(name('cluster.local/ns/foo/sa/sleep'))(req({}, tls)), false);
    assert.equal(idOnly(name(spiffe))(req()), false);
  });

  test('authenticated without a principal_name: any TLS connection, even without a client certificate', () => {
    const bare: Prin = { identifier: { case: 'authenticated', value: {} } };
    assert.equal(idOnly(bare)(req({}, conn({ tls: peer({ presented: false }) }))), true);
    assert.equal(idOnly(bare)(req()), false);
  });

  test('Istio namespaces: a regex over the SPIFFE id', () => {
    const ns: Prin = { identifier: { case: 'authenticated', value: { principalName: { matchPattern: { case: 'safeRegex', value: { regex: '.*/ns/foo/.*' } } } } } };
    assert.equal(idOnly(ns)(req({}, conn({ tls: peer({ uriSans: ['spiffe://cluster.local/ns/foo/sa/a'] }) }))), true);
    assert.equal(idOnly(ns)(req({}, conn({ tls: peer({ uriSans: ['spiffe://cluster.local/ns/bar/sa/a'] }) }))), false);
  });

  test('IP ranges: direct_remote_ip, remote_ip and source_ip read the peer; an address matches its own IP version only', () => {
    for (const c of ['directRemoteIp', 'remoteIp', 'sourceIp'] as const) {
      const m = idOnly({ identifier: { case: c, value: { addressPrefix: '10.1.0.0', prefixLen: 16 } } } as Prin);
      assert.equal(m(req()), true, c);
      assert.equal(m(req({}, conn({ remoteIp: '10.2.0.1' }))), false, c);
    }
    const v6all = idOnly({ identifier: { case: 'remoteIp', value: { addressPrefix: '::', prefixLen: 0 } } });
    assert.equal(v6all(req()), false);
    assert.equal(v6all(req({}, conn({ remoteIp: 'fd00::1' }))), true);
    const v4all = idOnly({ identifier: { case: 'remoteIp', value: { addressPrefix: '0.0.0.0' } } });
    assert.equal(v4all(req()), true, 'an unset prefix_len is 0');
  });

  test('and_ids, or_ids and not_id', () => {
    const ip = (p: string): Prin => ({ identifier: { case: 'directRemoteIp', value: { addressPrefix: p, prefixLen: 32 } } });
    const and = idOnly({ identifier: { case: 'andIds', value: { ids: [ANY_ID, ip('10.1.2.3')] } } });
    const or = idOnly({ identifier: { case: 'orIds', value: { ids: [ip('1.1.1.1'), ip('10.1.2.3')] } } });
    const not = idOnly({ identifier: { case: 'notId', value: ip('10.1.2.3') } });
    assert.deepEqual([and(req()), or(req()), not(req())], [true, true, false]);
    assert.deepEqual([and(req({}, conn({ remoteIp: '2.2.2.2' }))), or(req({}, conn({ remoteIp: '2.2.2.2' }))), not(req({}, conn({ remoteIp: '2.2.2.2' })))], [false, false, true]);
  });

  test('requestPrincipals read jwt_authn\'s payload at request time: no metadata never matches, their negation always does', () => {
    const claim = (name: string, value: string): Prin => ({ identifier: { case: 'metadata', value: { filter: 'envoy.filters.http.jwt_authn', path: [{ segment: { case: 'key', value: 'payload' } }, { segment: { case: 'key', value: name } }], value: { matchPattern: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value } } } } } } });
    const jwt: Prin = { identifier: { case: 'andIds', value: { ids: [claim('iss', 'issuer'), claim('sub', 'subject')] } } };
    assert.equal(idOnly(jwt)(req()), false);
    assert.equal(idOnly({ identifier: { case: 'notId', value: jwt } })(req()), true);
    const md = (payload: Record<string, unknown>): DynamicMetadata => ({ 'envoy.filters.http.jwt_authn': { payload } });
    assert.equal(idOnly(jwt)(req({ metadata: md({ iss: 'issuer', sub: 'subject' }) })), true);
    assert.equal(idOnly(jwt)(req({ metadata: md({ iss: 'issuer', sub: 'other' }) })), false);
    assert.equal(idOnly({ identifier: { case: 'notId', value: jwt } })(req({ metadata: md({ iss: 'issuer', sub: 'subject' }) })), false);
    // request.auth.claims[groups]: a list claim matches when one element does (Istio's or_match of value and list).
    const groups: Prin = { identifier: { case: 'metadata', value: { filter: 'envoy.filters.http.jwt_authn', path: [{ segment: { case: 'key', value: 'payload' } }, { segment: { case: 'key', value: 'groups' } }], value: { matchPattern: { case: 'orMatch', value: { valueMatchers: [
      { matchPattern: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'admin' } } } },
      { matchPattern: { case: 'listMatch', value: { matchPattern: { case: 'oneOf', value: { matchPattern: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'admin' } } } } } } } },
    ] } } } } } };
    assert.equal(idOnly(groups)(req({ metadata: md({ groups: ['dev', 'admin'] }) })), true);
    assert.equal(idOnly(groups)(req({ metadata: md({ groups: 'admin' }) })), true);
    assert.equal(idOnly(groups)(req({ metadata: md({ groups: ['dev'] }) })), false);
    assert.equal(idOnly(groups)(req({ metadata: md({ groups: { admin: true } }) })), false);
  });

  test('a header principal, and filter_state (never set here)', () => {
    const h: Prin = { identifier: { case: 'header', value: { name: 'x-user', headerMatchSpecifier: { case: 'prefixMatch', value: 'adm' } } } };
    assert.equal(idOnly(h)(req({ headers: { 'x-user': 'admin' } })), true);
    assert.equal(idOnly(h)(req()), false);
    assert.equal(idOnly({ identifier: { case: 'filterState', value: { key: 'io.istio.peer_principal' } } })(req()), false);
  });
});

describe('RBAC permissions', () => {
  test('headers include the pseudo-headers; Host is :authority and no header of its own (Envoy\'s HTTP/1 codec)', () => {
    const h = (name: string, v: string): Perm => ({ rule: { case: 'header', value: { name, headerMatchSpecifier: { case: 'exactMatch', value: v } } } });
    assert.equal(permOnly(h(':authority', 'app.ns:8080'))(req()), true);
    assert.equal(permOnly(h(':path', '/a?b=1'))(req({ url: '/a?b=1' })), true, ':path keeps the query');
    assert.equal(permOnly(h(':method', 'PUT'))(req({ method: 'PUT' })), true);
    assert.equal(permOnly(h(':scheme', 'http'))(req()), true);
    assert.equal(permOnly(h(':scheme', 'https'))(req({}, conn({ tls: peer() }))), true);
    assert.equal(permOnly(h('host', 'app.ns:8080'))(req()), false);
    assert.equal(permOnly({ rule: { case: 'header', value: { name: 'host', headerMatchSpecifier: { case: 'presentMatch', value: true } } } })(req()), false);
  });

  test('url_path ignores the query and fragment; never matches on a connection', () => {
    const p = permOnly({ rule: { case: 'urlPath', value: { rule: { case: 'path', value: { matchPattern: { case: 'exact', value: '/info' } } } } } });
    assert.equal(p(req({ url: '/info?x=1' })), true);
    assert.equal(p(req({ url: '/info#frag' })), true);
    assert.equal(p(req({ url: '/info/more' })), false);
    assert.equal(p(networkInput(conn())), false);
  });

  test('destination IP, port and port range read the original destination', () => {
    assert.equal(permOnly({ rule: { case: 'destinationIp', value: { addressPrefix: '10.9.0.0', prefixLen: 16 } } })(req()), true);
    assert.equal(permOnly({ rule: { case: 'destinationPort', value: 8080 } })(req()), true);
    assert.equal(permOnly({ rule: { case: 'destinationPort', value: 8081 } })(req()), false);
    const range = permOnly({ rule: { case: 'destinationPortRange', value: { start: 8000, end: 8080 } } });
    assert.equal(range(req()), false, 'the end is exclusive');
    assert.equal(range(req({}, conn({ originalDst: { address: '10.9.9.9', port: 8079 } }))), true);
  });

  test('requested_server_name, and_rules, or_rules and not_rule', () => {
    const sni: Perm = { rule: { case: 'requestedServerName', value: { matchPattern: { case: 'suffix', value: '.svc.cluster.local' } } } };
    const c = conn({ serverName: 'outbound_.80_._.app.ns.svc.cluster.local' });
    assert.equal(permOnly(sni)(networkInput(c)), true);
    assert.equal(permOnly(sni)(networkInput(conn())), false);
    const port = (n: number): Perm => ({ rule: { case: 'destinationPort', value: n } });
    assert.equal(permOnly({ rule: { case: 'andRules', value: { rules: [sni, port(8080)] } } })(networkInput(c)), true);
    assert.equal(permOnly({ rule: { case: 'orRules', value: { rules: [port(1), port(2)] } } })(networkInput(c)), false);
    assert.equal(permOnly({ rule: { case: 'notRule', value: port(1) } })(networkInput(c)), true);
  });

  test('the network filter sees no headers: a header matcher behaves as on an empty map', () => {
    const present: Perm = { rule: { case: 'header', value: { name: ':method', headerMatchSpecifier: { case: 'presentMatch', value: true } } } };
    assert.equal(permOnly(present)(networkInput(conn())), false);
    assert.equal(permOnly({ rule: { case: 'notRule', value: present } })(networkInput(conn())), true);
  });

  test('HTTP/2 requests carry their own pseudo-headers', () => {
    const i = req({ h2: true, headers: { ':method': 'GET', ':path': '/x', ':authority': 'h2.example' } });
    assert.equal(permOnly({ rule: { case: 'header', value: { name: ':authority', headerMatchSpecifier: { case: 'exactMatch', value: 'h2.example' } } } })(i), true);
  });
});

describe('RBAC config errors carry their path', () => {
  const errorsOf = (rules: MessageInitShape<typeof RBACSchema>) => {
    const errors: string[] = [];
    compileEngine(create(RBACSchema, rules), 'rules', errors, []);
    return errors.join('\n');
  };
  test('empty permissions/principals, CEL conditions, empty sets, bad CIDRs, unknown rules', () => {
    assert.match(errorsOf({ policies: { p: { permissions: [], principals: [ANY_ID] } } }), /rules\.policies\["p"\]\.permissions: empty/);
    assert.match(errorsOf({ policies: { p: { permissions: [ANY_PERM], principals: [] } } }), /rules\.policies\["p"\]\.principals: empty/);
    assert.match(errorsOf({ policies: { p: { permissions: [ANY_PERM], principals: [ANY_ID], condition: {} } } }), /condition: CEL conditions are not supported/);
    assert.match(errorsOf({ policies: { p: { permissions: [{ rule: { case: 'andRules', value: { rules: [] } } }], principals: [ANY_ID] } } }), /permissions\[0\]\.andRules\.rules: empty/);
    assert.match(errorsOf({ policies: { p: { permissions: [ANY_PERM], principals: [{ identifier: { case: 'remoteIp', value: { addressPrefix: 'nope' } } }] } } }), /principals\[0\]\.remoteIp\.addressPrefix: invalid address "nope"/);
    assert.match(errorsOf({ policies: { p: { permissions: [{ rule: { case: 'uriTemplate', value: {} } }], principals: [ANY_ID] } } }), /permissions\[0\]: unsupported permission uriTemplate/);
    assert.match(errorsOf({ policies: { p: { permissions: [{}], principals: [ANY_ID] } } }), /permissions\[0\]: unsupported permission \(none set\)/);
  });

  test('xDS matcher trees and continuous network enforcement are refused', () => {
    const e1: string[] = [];
    compileHttpRbac(create(HttpRbacSchema, { matcher: {} }), 'in', 'f', e1);
    assert.match(e1.join(), /f: matcher\/shadow_matcher/);
    const e2: string[] = [];
    compileNetworkRbac(create(NetworkRbacSchema, { statPrefix: 'tcp.', enforcementType: 1 }), 'f', e2);
    assert.match(e2.join(), /f\.enforcementType: only ONE_TIME_ON_FIRST_BYTE/);
  });
});

describe('RBAC filters: verdicts, shadow rules and Envoy\'s counter names', () => {
  const counts = () => {
    const m = new Map<string, number>();
    return { m, inc: (n: string) => void m.set(n, (m.get(n) ?? 0) + 1) };
  };
  const deny = (name: string) => ({ action: RBAC_Action.DENY, policies: { [name]: { permissions: [ANY_PERM], principals: [ANY_ID] } } });

  test('HTTP: http.<stat_prefix>.rbac.[rules prefix]; the shadow engine counts and never decides', () => {
    const f = compileHttpRbac(create(HttpRbacSchema, { rules: { action: RBAC_Action.ALLOW, policies: {} }, shadowRules: deny('dry'), shadowRulesStatPrefix: 'istio_dry_run_allow_' }), 'inbound_0.0.0.0_8080', 'f', []);
    const c = counts();
    assert.deepEqual(decide(f, req(), c), { allowed: false, detail: 'rbac_access_denied_matched_policy[none]' });
    assert.deepEqual([...c.m], [['http.inbound_0.0.0.0_8080.rbac.istio_dry_run_allow_shadow_denied', 1], ['http.inbound_0.0.0.0_8080.rbac.denied', 1]]);
    const shadowOnly = compileHttpRbac(create(HttpRbacSchema, { shadowRules: deny('dry') }), 'x', 'f', []);
    assert.deepEqual(decide(shadowOnly, req(), counts()), { allowed: true });
    const prefixed = compileHttpRbac(create(HttpRbacSchema, { rules: deny('p'), rulesStatPrefix: 'mine.' }), 'x', 'f', []);
    const c2 = counts();
    decide(prefixed, req(), c2);
    assert.deepEqual([...c2.m.keys()], ['http.x.rbac.mine.denied']);
  });

  test('network: <stat_prefix>rbac.allowed / .denied (Istio\'s "tcp.")', () => {
    const f = compileNetworkRbac(create(NetworkRbacSchema, { statPrefix: 'tcp.', rules: deny('ns[x]-policy[y]-rule[0]') }), 'f', []);
    const c = counts();
    assert.deepEqual(decide(f, networkInput(conn()), c), { allowed: false, detail: 'rbac_access_denied_matched_policy[ns[x]-policy[y]-rule[0]]' });
    assert.deepEqual([...c.m], [['tcp.rbac.denied', 1]]);
  });

  test('the response detail replaces whitespace in the policy name', () => {
    assert.equal(responseDetail('a b\tc'), 'rbac_access_denied_matched_policy[a_b_c]');
  });
});
