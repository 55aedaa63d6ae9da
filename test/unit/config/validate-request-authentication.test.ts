/**
 * Istio's validation of RequestAuthentication (validateJwtRule,
 * security.ParseJwksURI, ValidateStrictHTTPHeaderName): for each rule a valid
 * document and one change that breaks it, with the reason and line; both API
 * versions accepted.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf } from './helpers.js';

const ra = (spec: string, version = 'v1') => `apiVersion: security.istio.io/${version}\nkind: RequestAuthentication\nmetadata: {name: r, namespace: foo}\nspec:\n${spec}`;
const JWKS = '{"keys":[{"kty":"RSA","e":"AQAB","n":"xjlCRBqkOK6pdfO7gYW7HKa2iRcsL3kY2TRdTB3XQHasjeYrwRqVMlHUnGEUsHnFBmy7aPADkIt1p5YNXOiDBZ5wvQeOpBO4mGk9UNvBtPmLsV-3mrPtwbuFpmEs5qq1GV0vnupgLjDh3gN1xYF-P4_Jhm5fz8UcXNXBIg"}]}';

const rows: { rule: string; valid: string; invalid: string; reason: string; line: number }[] = [
  {
    rule: 'issuer is required and not empty',
    valid: ra('  jwtRules:\n  - issuer: https://example.com\n'),
    invalid: ra('  jwtRules:\n  - issuer: ""\n'),
    reason: 'spec.jwtRules[0].issuer: issuer must be set',
    line: 6,
  },
  {
    rule: 'jwksUri is an http(s) URL',
    valid: ra('  jwtRules:\n  - issuer: i\n    jwksUri: https://example.com/.well-known/jwks.json\n'),
    invalid: ra('  jwtRules:\n  - issuer: i\n    jwksUri: ftp://example.com/jwks\n'),
    reason: 'spec.jwtRules[0].jwksUri: URI scheme "ftp" is not supported',
    line: 7,
  },
  {
    rule: 'inline jwks parses, with usable keys',
    valid: ra(`  jwtRules:\n  - issuer: i\n    jwks: '${JWKS}'\n`),
    invalid: ra(`  jwtRules:\n  - issuer: i\n    jwks: '{"keys":[{"kty":"RSA","e":"AQAB"}]}'\n`),
    reason: 'spec.jwtRules[0].jwks: jwks parse error: keys[0]',
    line: 7,
  },
  {
    rule: 'audiences are not empty strings',
    valid: ra('  jwtRules:\n  - issuer: i\n    audiences: [a]\n'),
    invalid: ra('  jwtRules:\n  - issuer: i\n    audiences: [""]\n'),
    reason: 'audience must be non-empty string',
    line: 7,
  },
  {
    rule: 'a header location has a name',
    valid: ra('  jwtRules:\n  - issuer: i\n    fromHeaders: [{name: x-jwt, prefix: "Bearer "}]\n'),
    invalid: ra('  jwtRules:\n  - issuer: i\n    fromHeaders: [{prefix: "Bearer "}]\n'),
    reason: 'spec.jwtRules[0].fromHeaders[0].name',
    line: 7,
  },
  {
    rule: 'outputClaimToHeaders: a valid header name and a claim',
    valid: ra('  jwtRules:\n  - issuer: i\n    outputClaimToHeaders: [{header: x-sub, claim: sub}]\n'),
    invalid: ra('  jwtRules:\n  - issuer: i\n    outputClaimToHeaders: [{header: "x sub", claim: sub}]\n'),
    reason: 'header name x sub is not a valid header name',
    line: 7,
  },
  {
    rule: 'timeout is a duration',
    valid: ra('  jwtRules:\n  - issuer: i\n    timeout: 10s\n'),
    invalid: ra('  jwtRules:\n  - issuer: i\n    timeout: soon\n'),
    reason: 'spec.jwtRules[0].timeout',
    line: 7,
  },
  {
    rule: 'selector and targetRef exclude each other',
    valid: ra('  targetRef: {kind: Service, name: web}\n'),
    invalid: ra('  selector: {matchLabels: {app: web}}\n  targetRef: {kind: Service, name: web}\n'),
    reason: 'only one of targetRefs or workloadSelector can be set',
    line: 4,
  },
  {
    rule: 'unknown fields are reported (a typo is not silently ignored)',
    valid: ra('  jwtRules:\n  - issuer: i\n    forwardOriginalToken: true\n'),
    invalid: ra('  jwtRules:\n  - issuer: i\n    forwardOriginalTokens: true\n'),
    reason: 'forwardOriginalTokens',
    line: 7,
  },
];

describe('RequestAuthentication validation, Istio\'s rules', () => {
  for (const r of rows) {
    test(r.rule, () => {
      assert.deepEqual(problemsOf(r.valid).map((p) => p.reason), [], 'the valid document');
      const problems = problemsOf(r.invalid);
      assert.equal(problems.length, 1, problems.map((p) => p.reason).join('\n'));
      assert.ok(problems[0]!.reason.includes(r.reason), problems[0]!.reason);
      assert.equal(problems[0]!.line, r.line, problems[0]!.reason);
    });
  }

  test('v1beta1 is accepted as v1; v1alpha1 is not', () => {
    assert.deepEqual(problemsOf(ra('  jwtRules: [{issuer: i}]\n', 'v1beta1')), []);
    assert.match(problemsOf(ra('  jwtRules: [{issuer: i}]\n', 'v1alpha1'))[0]!.reason, /not accepted for RequestAuthentication/);
  });
});
