/**
 * What Trellis does not implement of Telemetry (metrics overrides, tracing,
 * CEL filters, providers it lacks, targetRefs), and the kinds it knows but
 * never applies (EnvoyFilter, WasmPlugin, ProxyConfig, QuotaSpec): each a
 * CONFIG_UNSUPPORTED warning at its own line saying what happens instead —
 * and what is implemented (the envoy provider, match, disabled, a
 * `disabled: false` that changes nothing) is not reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yaml } from '../config/helpers.js';
import { analyzeFiles, lineOfText } from './helpers.js';

const telemetry = yaml`
  apiVersion: telemetry.istio.io/v1
  kind: Telemetry
  metadata: {name: mesh-default, namespace: istio-system}
  spec:
    accessLogging:
    - providers: [{name: envoy}]
      match: {mode: CLIENT}
      filter: {expression: "response.code >= 400"}
    - providers: [{name: otel-als}]
      disabled: false
    - filter: {expression: "true"}
    metrics:
    - providers: [{name: prometheus}, {name: stackdriver}]
      reportingInterval: 10s
      overrides:
      - match: {metric: ALL_METRICS}
        disabled: false
      - match: {metric: REQUEST_COUNT, mode: SERVER}
        disabled: true
        tagOverrides:
          request_protocol: {operation: REMOVE}
    tracing:
    - randomSamplingPercentage: 10
      customTags:
        team: {literal: {value: shop}}
`;

const neverApplied = yaml`
  apiVersion: networking.istio.io/v1alpha3
  kind: EnvoyFilter
  metadata: {name: lua, namespace: bookinfo}
  spec:
    configPatches:
    - applyTo: HTTP_FILTER
      patch: {operation: INSERT_BEFORE, value: {name: envoy.lua}}
  ---
  apiVersion: extensions.istio.io/v1alpha1
  kind: WasmPlugin
  metadata: {name: auth, namespace: bookinfo}
  spec:
    url: oci://example.com/auth:1
  ---
  apiVersion: networking.istio.io/v1beta1
  kind: ProxyConfig
  metadata: {name: pc, namespace: bookinfo}
  spec:
    concurrency: 4
  ---
  apiVersion: config.istio.io/v1alpha2
  kind: QuotaSpec
  metadata: {name: request-count, namespace: istio-system}
  spec:
    rules: [{quotas: [{charge: 1, quota: requestcount}]}]
`;

test('Telemetry: each field Trellis does not act on is one warning at its line; what it implements is not reported', () => {
  const found = analyzeFiles({ 't.yaml': telemetry }).filter((p) => p.code === 'CONFIG_UNSUPPORTED');
  const line = (needle: string) => lineOfText(telemetry, needle);
  const at = (l: number) => found.filter((p) => p.line === l).map((p) => p.reason);
  assert.deepEqual(found.map((p) => p.line).sort((a, b) => a - b), [
    line('response.code'), line('otel-als'), line('stackdriver'), line('reportingInterval'),
    line('disabled: true'), line('tagOverrides'), line('randomSamplingPercentage'), line('customTags'),
  ].sort((a, b) => a - b), found.map((p) => `${p.line} ${p.reason}`).join('\n'));
  for (const p of found) assert.equal(p.file, 't.yaml');
  assert.match(at(line('response.code'))[0]!, /^Telemetry istio-system\/mesh-default: spec\.accessLogging\[0\]\.filter: .*not implemented: every request and connection is logged/);
  assert.match(at(line('otel-als'))[0]!, /spec\.accessLogging\[1\]\.providers\[0\]\.name: .*one access log provider, the built-in `envoy`.*nothing is logged to this one/);
  assert.match(at(line('stackdriver'))[0]!, /spec\.metrics\[0\]\.providers\[1\]\.name: .*`prometheus`/);
  assert.match(at(line('disabled: true'))[0]!, /spec\.metrics\[0\]\.overrides\[1\]\.disabled: disabling metrics is not implemented/);
  assert.match(at(line('randomSamplingPercentage'))[0]!, /spec\.tracing\[0\]\.randomSamplingPercentage: tracing through the Telemetry API is not implemented/);
});

test('a Telemetry with a targetRef is reported: no proxy gets it', () => {
  const text = 'apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: gw, namespace: default}\nspec:\n  targetRefs:\n  - {group: gateway.networking.k8s.io, kind: Gateway, name: gw}\n';
  const found = analyzeFiles({ 'gw.yaml': text }).filter((p) => p.code === 'CONFIG_UNSUPPORTED');
  assert.deepEqual(found.map((p) => [p.line, p.reason]), [[5, 'Telemetry default/gw: spec.targetRefs: targetRef(s) attach a Telemetry to Gateway API gateways and waypoints, which Trellis does not run: no proxy gets this Telemetry']]);
});

test('EnvoyFilter, WasmPlugin, ProxyConfig and QuotaSpec: each document reported once, at its first line, with what happens instead', () => {
  const found = analyzeFiles({ 'x.yaml': neverApplied }).filter((p) => p.code === 'CONFIG_UNSUPPORTED');
  const starts = neverApplied.split('\n').flatMap((l, i) => (l.startsWith('apiVersion:') ? [i + 1] : []));
  assert.deepEqual(found.map((p) => p.line), starts);
  assert.deepEqual(found.map((p) => p.reason.split(':')[0]), ['EnvoyFilter bookinfo/lua', 'WasmPlugin bookinfo/auth', 'ProxyConfig bookinfo/pc', 'QuotaSpec istio-system/request-count']);
  assert.match(found[0]!.reason, /^EnvoyFilter bookinfo\/lua: EnvoyFilter patches are not applied: Trellis's proxy is not Envoy/);
  assert.match(found[1]!.reason, /WasmPlugins are not loaded/);
  assert.match(found[2]!.reason, /ProxyConfig is not applied: .*concurrency has no effect/);
  assert.match(found[3]!.reason, /retired in Istio 1\.8/);
  for (const p of found) assert.equal(p.severity, 'Warning');
});
