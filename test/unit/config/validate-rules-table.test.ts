/**
 * The remaining rules as a table: for each, a valid document and the same
 * document with one change, and the reason that change must produce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf } from './helpers.js';

const vsRoute = (extra: string) =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n  - route: [{destination: {host: r}}]\n${extra}`;
const drPolicy = (policy: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: r\n  trafficPolicy:\n${policy}`;
const service = (spec: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n${spec}`;

const rows: { rule: string; valid: string; invalid: string; reason: string; line: number }[] = [
  {
    rule: 'fault abort sets one of httpStatus, grpcStatus, http2Error',
    valid: vsRoute('    fault: {abort: {httpStatus: 503, percentage: {value: 0.1}}}\n'),
    invalid: vsRoute('    fault: {abort: {percentage: {value: 0.1}}}\n'),
    reason: 'spec.http[0].fault.abort: one of httpStatus, grpcStatus, http2Error must be set',
    line: 8,
  },
  {
    rule: 'fault abort status is an HTTP status',
    valid: vsRoute('    fault: {abort: {httpStatus: 500}}\n'),
    invalid: vsRoute('    fault: {abort: {httpStatus: 1000}}\n'),
    reason: 'spec.http[0].fault.abort.httpStatus: must be an integer 200..599 (got 1000)',
    line: 8,
  },
  {
    rule: 'percentages are numbers 0..100',
    valid: vsRoute('    mirror: {host: shadow}\n    mirrorPercentage: {value: 12.5}\n'),
    invalid: vsRoute('    mirror: {host: shadow}\n    mirrorPercentage: {value: 150}\n'),
    reason: 'spec.http[0].mirrorPercentage.value: must be a number 0..100 (got 150)',
    line: 9,
  },
  {
    rule: 'rewrite regex must compile',
    valid: vsRoute('    rewrite: {uriRegexRewrite: {match: "^/service/([^/]+)(/.*)$", rewrite: "\\\\2/instance/\\\\1"}}\n'),
    invalid: vsRoute('    rewrite: {uriRegexRewrite: {match: "^/service/([^/]+", rewrite: x}}\n'),
    reason: 'spec.http[0].rewrite.uriRegexRewrite.match: invalid regex',
    line: 8,
  },
  {
    rule: 'cors maxAge is a duration',
    valid: vsRoute('    corsPolicy: {allowOrigins: [{exact: "https://example.com"}], allowMethods: [GET], maxAge: 24h}\n'),
    invalid: vsRoute('    corsPolicy: {allowOrigins: [{exact: "https://example.com"}], allowMethods: [GET], maxAge: 1 day}\n'),
    reason: 'spec.http[0].corsPolicy.maxAge: "1 day" is not a duration',
    line: 8,
  },
  {
    rule: 'redirect codes are 3xx',
    valid: vsRoute('').replace('route: [{destination: {host: r}}]', 'redirect: {uri: /new, redirectCode: 308}'),
    invalid: vsRoute('').replace('route: [{destination: {host: r}}]', 'redirect: {uri: /new, redirectCode: 200}'),
    reason: 'spec.http[0].redirect.redirectCode: must be an integer 300..399 (got 200)',
    line: 7,
  },
  {
    rule: 'consistentHash uses one hash key',
    valid: drPolicy('    loadBalancer: {consistentHash: {httpHeaderName: x-user}}\n'),
    invalid: drPolicy('    loadBalancer: {consistentHash: {httpHeaderName: x-user, useSourceIp: true}}\n'),
    reason: 'spec.trafficPolicy.loadBalancer.consistentHash.useSourceIp: only one hash key may be set (also set: httpHeaderName)',
    line: 7,
  },
  {
    rule: 'h2UpgradePolicy is an enum',
    valid: drPolicy('    connectionPool:\n      http: {h2UpgradePolicy: UPGRADE}\n'),
    invalid: drPolicy('    connectionPool:\n      http: {h2UpgradePolicy: ALWAYS}\n'),
    reason: 'spec.trafficPolicy.connectionPool.http.h2UpgradePolicy: must be one of DEFAULT, DO_NOT_UPGRADE, UPGRADE (got "ALWAYS")',
    line: 8,
  },
  {
    rule: 'maxEjectionPercent is 0..100',
    valid: drPolicy('    outlierDetection: {maxEjectionPercent: 50}\n'),
    invalid: drPolicy('    outlierDetection: {maxEjectionPercent: 101}\n'),
    reason: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent: must be an integer 0..100 (got 101)',
    line: 7,
  },
  {
    rule: 'Service targetPort is a number or a name',
    valid: service('  ports:\n  - {port: 80, targetPort: http}\n'),
    invalid: service('  ports:\n  - {port: 80, targetPort: [8080]}\n'),
    reason: 'spec.ports[0].targetPort: must be an integer or a string',
    line: 6,
  },
  {
    rule: 'Service port protocol is TCP, UDP or SCTP',
    valid: service('  ports:\n  - {port: 53, protocol: UDP}\n'),
    invalid: service('  ports:\n  - {port: 53, protocol: DNS}\n'),
    reason: 'spec.ports[0].protocol: must be one of TCP, UDP, SCTP (got "DNS")',
    line: 6,
  },
  {
    rule: 'selectors are string maps',
    valid: service('  selector: {app: s, version: "1"}\n'),
    invalid: service('  selector: {app: s, version: 1}\n'),
    reason: 'spec.selector.version: must be a string',
    line: 5,
  },
  {
    rule: 'AuthorizationPolicy provider only with CUSTOM',
    valid: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all}\nspec: {action: DENY, rules: [{}]}\n',
    invalid: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all}\nspec: {action: DENY, rules: [{}], provider: {name: x}}\n',
    reason: 'spec.provider: provider is only allowed with action CUSTOM',
    line: 4,
  },
  {
    rule: 'EndpointSlice addressType is an enum',
    valid: 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv6\n',
    invalid: 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IP\n',
    reason: 'addressType: must be one of IPv4, IPv6, FQDN (got "IP")',
    line: 4,
  },
  {
    rule: 'a spec must be a mapping',
    valid: 'apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: w}\nspec: {address: 1.2.3.4}\n',
    invalid: 'apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: w}\nspec: [address]\n',
    reason: 'spec: must be a mapping',
    line: 4,
  },
];

for (const row of rows) {
  test(`rule: ${row.rule}`, () => {
    assert.deepEqual(problemsOf(row.valid).map((p) => p.reason), [], 'the valid variant');
    const problems = problemsOf(row.invalid);
    assert.equal(problems.length, 1, problems.map((p) => p.reason).join('\n'));
    assert.ok(problems[0]!.reason.includes(row.reason), problems[0]!.reason);
    assert.equal(problems[0]!.line, row.line);
  });
}
