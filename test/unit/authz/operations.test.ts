/**
 * `to` operations and `when` conditions as RBAC permissions and principals,
 * and what a TCP chain keeps of them — as istiod's builder generates them
 * (testdata allow-full-rule, allow-path, tcp/deny-both-http-tcp).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonValue } from '@bufbuild/protobuf';
import { expected, rbacJson } from './helpers.js';

const policy = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ops, namespace: foo}
spec:
  action: DENY
  rules:
  - to:
    - operation:
        hosts: ["api.example.com", "*.example.com", "internal.*", "*"]
        notHosts: ["admin.example.com"]
        methods: ["GET", "PO*", "*ETE"]
        notMethods: ["*"]
        paths: ["/exact", "/admin/*", "*.php", "/v1/{*}/items/{**}"]
        notPaths: ["/healthz"]
        ports: ["8080"]
        notPorts: ["9090"]
    - operation:
        ports: ["15000"]
    when:
    - {key: "request.headers[x-user]", values: ["alice", "adm-*", "*-bot", "*"], notValues: ["mallory"]}
    - {key: source.ip, values: ["10.0.0.0/8"]}
    - {key: remote.ip, notValues: ["203.0.113.9"]}
    - {key: source.namespace, values: ["bar"]}
    - {key: source.principal, values: ["cluster.local/ns/bar/sa/reader"]}
    - {key: destination.ip, values: ["10.96.0.1"]}
    - {key: destination.port, values: ["8443"]}
    - {key: connection.sni, values: ["*.svc.cluster.local"]}
    - {key: "experimental.envoy.filters.network.mysql_proxy[db.table]", values: ["[update]", "select"]}
`;

const host = (m: string) => `{header: {name: ":authority", stringMatch: ${m}}}`;
const method = (m: string) => `{header: {name: ":method", stringMatch: ${m}}}`;
const urlPath = (m: string) => `{urlPath: {path: ${m}}}`;

/** The permissions every `to` shares: the TCP-level `when` conditions, appended after the operation's fields. */
const conditions = `
            - orRules: {rules: [{destinationIp: {addressPrefix: 10.96.0.1, prefixLen: 32}}]}
            - orRules: {rules: [{destinationPort: 8443}]}
            - orRules: {rules: [{requestedServerName: {suffix: .svc.cluster.local}}]}
            - metadata:
                filter: envoy.filters.network.mysql_proxy
                path: [{key: db.table}]
                value: {orMatch: {valueMatchers: [{listMatch: {oneOf: {stringMatch: {exact: update}}}}, {stringMatch: {exact: select}}]}}`;

const tcpPrincipals = `
            - orIds: {ids: [{directRemoteIp: {addressPrefix: 10.0.0.0, prefixLen: 8}}]}
            - notId: {orIds: {ids: [{remoteIp: {addressPrefix: 203.0.113.9, prefixLen: 32}}]}}
            - orIds: {ids: [{authenticated: {principalName: {safeRegex: {regex: ".*/ns/bar/.*"}}}}]}
            - orIds: {ids: [{authenticated: {principalName: {exact: "spiffe://cluster.local/ns/bar/sa/reader"}}}]}`;

function ruleOf(filter: JsonValue): JsonValue {
  return (filter as { typedConfig: { rules: { policies: Record<string, JsonValue> } } }).typedConfig.rules.policies['ns[foo]-policy[ops]-rule[0]']!;
}

describe('to and when', () => {
  const out = rbacJson(policy);

  test('HTTP: hosts without case, methods, paths (prefix, suffix, uri templates), ports; conditions on both sides', () => {
    assert.deepEqual(ruleOf(out.http[0]!), expected(`
        permissions:
        - andRules:
            rules:
            - orRules: {rules: [${host('{exact: api.example.com, ignoreCase: true}')}, ${host('{suffix: .example.com, ignoreCase: true}')}, ${host('{prefix: internal., ignoreCase: true}')}, {header: {name: ":authority", presentMatch: true}}]}
            - notRule: {orRules: {rules: [${host('{exact: admin.example.com, ignoreCase: true}')}]}}
            - orRules: {rules: [${method('{exact: GET}')}, ${method('{prefix: PO}')}, ${method('{suffix: ETE}')}]}
            - notRule: {orRules: {rules: [{header: {name: ":method", presentMatch: true}}]}}
            - orRules:
                rules:
                - ${urlPath('{exact: /exact}')}
                - ${urlPath('{prefix: /admin/}')}
                - ${urlPath('{suffix: .php}')}
                - uriTemplate: {name: uri-template, typedConfig: {'@type': type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, pathTemplate: "/v1/*/items/**"}}
            - notRule: {orRules: {rules: [${urlPath('{exact: /healthz}')}]}}
            - orRules: {rules: [{destinationPort: 8080}]}
            - notRule: {orRules: {rules: [{destinationPort: 9090}]}}${conditions}
        - andRules:
            rules:
            - orRules: {rules: [{destinationPort: 15000}]}${conditions}
        principals:
        - andIds:
            ids:
            - orIds:
                ids:
                - {header: {name: x-user, stringMatch: {exact: alice}}}
                - {header: {name: x-user, stringMatch: {prefix: adm-}}}
                - {header: {name: x-user, stringMatch: {suffix: -bot}}}
                - {header: {name: x-user, presentMatch: true}}
            - notId: {orIds: {ids: [{header: {name: x-user, stringMatch: {exact: mallory}}}]}}${tcpPrincipals}
`));
  });

  test('TCP, DENY: HTTP-only values are dropped and the rest still denies (a wider deny, never a silent allow)', () => {
    assert.deepEqual(ruleOf(out.tcp[0]!), expected(`
        permissions:
        - andRules:
            rules:
            - orRules: {rules: [{destinationPort: 8080}]}
            - notRule: {orRules: {rules: [{destinationPort: 9090}]}}${conditions}
        - andRules:
            rules:
            - orRules: {rules: [{destinationPort: 15000}]}${conditions}
        principals:
        - andIds:
            ids:${tcpPrincipals}
`));
  });

  test('TCP, DENY: a rule made only of HTTP fields denies every connection; ALLOW drops the rule instead', () => {
    const rule = (action: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ops, namespace: foo}
spec:
  action: ${action}
  rules:
  - to: [{operation: {methods: [GET]}}]
  - from: [{source: {namespaces: [ns-1]}}]
    to: [{operation: {paths: [/x], ports: ["80"]}}]
`;
    const deny = rbacJson(rule('DENY')).tcp[0] as { typedConfig: { rules: { policies: Record<string, JsonValue> } } };
    assert.deepEqual(deny.typedConfig.rules.policies, expected(`
      ns[foo]-policy[ops]-rule[0]: {permissions: [{andRules: {rules: [{any: true}]}}], principals: [{andIds: {ids: [{any: true}]}}]}
      ns[foo]-policy[ops]-rule[1]:
        permissions: [{andRules: {rules: [{orRules: {rules: [{destinationPort: 80}]}}]}}]
        principals: [{andIds: {ids: [{orIds: {ids: [{authenticated: {principalName: {safeRegex: {regex: ".*/ns/ns-1/.*"}}}}]}}]}}]
`));
    const allow = rbacJson(rule('ALLOW'));
    assert.deepEqual((allow.tcp[0] as { typedConfig: { rules: JsonValue } }).typedConfig.rules, {}, 'no policy: nothing is allowed over TCP');
    assert.equal(Object.keys((allow.http[0] as { typedConfig: { rules: { policies: object } } }).typedConfig.rules.policies).length, 2);
  });

  test('JWT claims, audiences and presenter: one metadata matcher each, for a claim that may be a list', () => {
    const out = rbacJson(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ops, namespace: foo}
spec:
  rules:
  - when:
    - {key: request.auth.audiences, values: [api]}
    - {key: request.auth.presenter, notValues: ["web-*"]}
    - {key: "request.auth.claims[groups]", values: [admins, ops]}
    - {key: "request.auth.claims[realm][roles]", values: ["*-reader"]}
`);
    const claim = (path: string, m: string) => `{metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, ${path}], value: {orMatch: {valueMatchers: [{listMatch: {oneOf: ${m}}}, ${m}]}}}}`;
    const two = '{orMatch: {valueMatchers: [{stringMatch: {exact: admins}}, {stringMatch: {exact: ops}}]}}';
    assert.deepEqual(ruleOf(out.http[0]!), expected(`
        permissions: [{andRules: {rules: [{any: true}]}}]
        principals:
        - andIds:
            ids:
            - ${claim('{key: aud}', '{stringMatch: {exact: api}}')}
            - notId: ${claim('{key: azp}', '{stringMatch: {prefix: web-}}')}
            - ${claim('{key: groups}', two)}
            - ${claim('{key: realm}, {key: roles}', '{stringMatch: {suffix: -reader}}')}
`));
  });
});
