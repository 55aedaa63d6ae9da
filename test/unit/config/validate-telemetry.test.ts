/**
 * Telemetry validation as Istio's CRD and ValidateTelemetry (provider names,
 * tag overrides, modes, sampling, selector or targetRef), and the kinds
 * Trellis knows but never applies (EnvoyFilter, WasmPlugin, ProxyConfig,
 * QuotaSpec) validated structurally: for each rule a valid document and one
 * change that breaks it, with the reason and its line.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf, yaml } from './helpers.js';

const tel = (spec: string, version = 'v1') => `apiVersion: telemetry.istio.io/${version}\nkind: Telemetry\nmetadata: {name: t, namespace: foo}\nspec:\n${spec}`;
const kind = (apiVersion: string, k: string, spec: string) => `apiVersion: ${apiVersion}\nkind: ${k}\nmetadata: {name: x, namespace: foo}\n${spec}`;

const rows: { rule: string; valid: string; invalid: string; reason: string; line: number }[] = [
  {
    rule: 'an access log provider has a name',
    valid: tel('  accessLogging:\n  - providers:\n    - name: envoy\n'),
    invalid: tel('  accessLogging:\n  - providers:\n    - name: ""\n'),
    reason: 'Telemetry foo/t: spec.accessLogging[0].providers[0].name: should be at least 1 chars long',
    line: 7,
  },
  {
    rule: 'match.mode is CLIENT, SERVER or CLIENT_AND_SERVER',
    valid: tel('  accessLogging:\n  - match: {mode: SERVER}\n'),
    invalid: tel('  accessLogging:\n  - match: {mode: INBOUND}\n'),
    reason: 'spec.accessLogging[0].match.mode: must be one of CLIENT, SERVER, CLIENT_AND_SERVER (got "INBOUND")',
    line: 6,
  },
  {
    rule: 'disabled is a boolean',
    valid: tel('  accessLogging:\n  - disabled: true\n'),
    invalid: tel('  accessLogging:\n  - disabled: "yes"\n'),
    reason: 'spec.accessLogging[0].disabled',
    line: 6,
  },
  {
    rule: 'a tag override UPSERT needs a value',
    valid: tel('  metrics:\n  - overrides:\n    - tagOverrides:\n        foo: {operation: UPSERT, value: add}\n'),
    invalid: tel('  metrics:\n  - overrides:\n    - tagOverrides:\n        foo: {operation: UPSERT}\n'),
    reason: 'spec.metrics[0].overrides[0].tagOverrides.foo: value must be set when operation is UPSERT',
    line: 8,
  },
  {
    rule: 'a tag override REMOVE has no value',
    valid: tel('  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: REMOVE\n'),
    invalid: tel('  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: REMOVE\n          value: oops\n'),
    reason: 'spec.metrics[0].overrides[0].tagOverrides.foo.value: value must not be set when operation is REMOVE',
    line: 10,
  },
  {
    rule: 'a metric is one of Istio\'s',
    valid: tel('  metrics:\n  - overrides:\n    - match: {metric: REQUEST_COUNT, mode: CLIENT}\n      disabled: true\n'),
    invalid: tel('  metrics:\n  - overrides:\n    - match: {metric: REQUEST_COUNTS, mode: CLIENT}\n      disabled: true\n'),
    reason: 'spec.metrics[0].overrides[0].match.metric: must be one of',
    line: 7,
  },
  {
    rule: 'a custom metric has a name',
    valid: tel('  metrics:\n  - overrides:\n    - match: {customMetric: foo}\n'),
    invalid: tel('  metrics:\n  - overrides:\n    - match: {customMetric: ""}\n'),
    reason: 'spec.metrics[0].overrides[0].match.customMetric: should be at least 1 chars long',
    line: 7,
  },
  {
    rule: 'reportingInterval is a duration',
    valid: tel('  metrics:\n  - reportingInterval: 5s\n'),
    invalid: tel('  metrics:\n  - reportingInterval: soon\n'),
    reason: 'spec.metrics[0].reportingInterval: "soon" is not a duration',
    line: 6,
  },
  {
    rule: 'randomSamplingPercentage is 0..100',
    valid: tel('  tracing:\n  - randomSamplingPercentage: 54.54\n'),
    invalid: tel('  tracing:\n  - randomSamplingPercentage: 101\n'),
    reason: 'spec.tracing[0].randomSamplingPercentage',
    line: 6,
  },
  {
    rule: 'selector, targetRef and targetRefs exclude each other',
    valid: tel('  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}\n'),
    invalid: tel('  selector: {matchLabels: {app: a}}\n  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}\n'),
    reason: 'spec: only one of targetRefs or workloadSelector can be set',
    line: 4,
  },
  {
    rule: 'a misspelt field is an unknown field, at its line',
    valid: tel('  accessLogging:\n  - providers: [{name: envoy}]\n'),
    invalid: tel('  accesLogging:\n  - providers: [{name: envoy}]\n'),
    reason: 'spec.accesLogging: unknown field (did you mean "accessLogging"?)',
    line: 5,
  },
  {
    rule: 'EnvoyFilter: applyTo and patch operation are Istio\'s enums',
    valid: kind('networking.istio.io/v1alpha3', 'EnvoyFilter', 'spec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    patch: {operation: INSERT_BEFORE, value: {name: x}}\n'),
    invalid: kind('networking.istio.io/v1alpha3', 'EnvoyFilter', 'spec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    patch: {operation: PREPEND, value: {name: x}}\n'),
    reason: 'EnvoyFilter foo/x: spec.configPatches[0].patch.operation: must be one of',
    line: 7,
  },
  {
    rule: 'WasmPlugin: url is required',
    valid: kind('extensions.istio.io/v1alpha1', 'WasmPlugin', 'spec:\n  url: oci://example.com/plugin:1\n  phase: AUTHN\n'),
    invalid: kind('extensions.istio.io/v1alpha1', 'WasmPlugin', 'spec:\n  phase: AUTHN\n'),
    reason: 'WasmPlugin foo/x: spec.url: required field is missing',
    line: 4,
  },
  {
    rule: 'ProxyConfig: concurrency is not negative',
    valid: kind('networking.istio.io/v1beta1', 'ProxyConfig', 'spec:\n  concurrency: 2\n  environmentVariables: {A: b}\n'),
    invalid: kind('networking.istio.io/v1beta1', 'ProxyConfig', 'spec:\n  concurrency: -1\n'),
    reason: 'ProxyConfig foo/x: spec.concurrency',
    line: 5,
  },
];

describe('Telemetry and the never-applied Istio kinds: validation rows', () => {
  for (const r of rows) {
    test(r.rule, () => {
      assert.deepEqual(problemsOf(r.valid).map((p) => p.reason), [], 'the valid document');
      const problems = problemsOf(r.invalid);
      assert.equal(problems.length, 1, problems.map((p) => p.reason).join('\n'));
      assert.equal(problems[0]!.code, 'CONFIG_INVALID');
      assert.ok(problems[0]!.reason.includes(r.reason), problems[0]!.reason);
      assert.equal(problems[0]!.line, r.line, problems[0]!.reason);
    });
  }
});

test('Telemetry is accepted at telemetry.istio.io v1 and v1alpha1, and with every Istio field set', () => {
  const full = tel(yaml`
    metrics:
    - providers: [{name: prometheus}]
      reportingInterval: 5s
      overrides:
      - match: {customMetric: foo}
        disabled: false
        tagOverrides:
          request_method: {value: request.method}
      - match: {metric: GRPC_REQUEST_MESSAGES}
        disabled: true
    accessLogging:
    - disabled: false
      filter: {expression: 'true'}
      match: {mode: CLIENT}
      providers: [{name: stdout}]
    tracing:
    - providers: [{name: otlp}]
      match: {mode: CLIENT_AND_SERVER}
      randomSamplingPercentage: 54.54
      useRequestIdForTraceSampling: true
      disableSpanReporting: false
      customTags:
        env: {environment: {name: NAME, defaultValue: default}}
        header: {header: {name: x-name, defaultValue: default name}}
        literal: {literal: {value: default literal}}
  `.replace(/^/gm, '  '));
  for (const v of ['v1', 'v1alpha1']) assert.deepEqual(problemsOf(full.replace('telemetry.istio.io/v1', `telemetry.istio.io/${v}`)).map((p) => p.reason), [], v);
  assert.match(problemsOf(full.replace('telemetry.istio.io/v1', 'telemetry.istio.io/v2'))[0]!.reason, /telemetry.istio.io\/v2 is not accepted for Telemetry/);
  // No spec at all configures nothing, and is valid.
  assert.deepEqual(problemsOf('apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: empty, namespace: foo}\n'), []);
});

test('QuotaSpec, retired with Mixer, is a known kind whose spec is not checked', () => {
  assert.deepEqual(problemsOf(kind('config.istio.io/v1alpha2', 'QuotaSpec', 'spec:\n  rules:\n  - quotas: [{charge: 1, quota: requestcount}]\n')), []);
});
