/**
 * The unsupported-fields rules (unsupported-fields.ts) of Telemetry, and of
 * the kinds Trellis knows but never applies: those are reported once per
 * document (the empty path: the document's own line).
 */
import { isEnvoyProvider } from '../translate/telemetry/access-log-policy.js';
import type { Rule } from './unsupported-rule.js';

const tracingFields = ['providers', 'match', 'customTags', 'randomSamplingPercentage', 'disableSpanReporting', 'useRequestIdForTraceSampling', 'enableIstioTags'];
const noTracing = 'tracing through the Telemetry API is not implemented: the proxy propagates trace headers (W3C, B3) but reports no spans and samples nothing';
const noTargets = 'targetRef(s) attach a Telemetry to Gateway API gateways and waypoints, which Trellis does not run: no proxy gets this Telemetry';

export const telemetryRules: readonly Rule[] = [
  { path: ['spec', 'targetRef'], message: noTargets },
  { path: ['spec', 'targetRefs'], message: noTargets },
  {
    path: ['spec', 'accessLogging', '*', 'filter'],
    message: 'access log filters (CEL expressions) are not implemented: every request and connection is logged',
    // "true" filters nothing out: what Trellis does anyway.
    when: (v) => (v as { expression?: unknown }).expression !== undefined && String((v as { expression?: unknown }).expression).trim() !== 'true',
  },
  {
    path: ['spec', 'accessLogging', '*', 'providers', '*', 'name'],
    message: 'Trellis has one access log provider, the built-in `envoy` (the proxy\'s stdout): nothing is logged to this one (as istiod does for a provider its mesh config lacks)',
    when: (v) => typeof v === 'string' && !isEnvoyProvider(v),
  },
  {
    path: ['spec', 'metrics', '*', 'providers', '*', 'name'],
    message: 'Trellis has one metrics provider, `prometheus` (the proxy\'s /stats/prometheus): this one gets nothing, and the Istio metrics stay as they are',
    when: (v) => typeof v === 'string' && v.toLowerCase() !== 'prometheus',
  },
  { path: ['spec', 'metrics', '*', 'reportingInterval'], message: 'reportingInterval is not implemented: metrics are current whenever they are scraped' },
  {
    path: ['spec', 'metrics', '*', 'overrides', '*', 'disabled'],
    message: 'disabling metrics is not implemented: the proxy keeps reporting every Istio metric',
    when: (v) => v === true,
  },
  { path: ['spec', 'metrics', '*', 'overrides', '*', 'tagOverrides'], message: 'metric tag overrides are not implemented: the Istio metrics keep their standard labels' },
  ...tracingFields.map((f) => ({ path: ['spec', 'tracing', '*', f], message: noTracing })),
];

/** Kinds accepted as known and never applied: one finding per document, saying what happens instead. */
export const neverAppliedRules: Readonly<Record<string, readonly Rule[]>> = {
  EnvoyFilter: [{
    path: [],
    message: 'EnvoyFilter patches are not applied: Trellis\'s proxy is not Envoy, so listeners, routes and clusters stay as Trellis translates them and no filter a patch adds (Lua, Wasm, ...) runs',
  }],
  WasmPlugin: [{ path: [], message: 'WasmPlugins are not loaded: Trellis\'s proxy runs no Wasm, so traffic passes without this plugin' }],
  ProxyConfig: [{
    path: [],
    message: 'ProxyConfig is not applied: proxies keep the settings of their flags and environment (concurrency has no effect: Trellis\'s proxy serves from one event loop; no proxy image is chosen)',
  }],
  QuotaSpec: [{ path: [], message: 'QuotaSpec is configuration of Mixer, retired in Istio 1.8, and nothing reads it: no quota is enforced' }],
};
