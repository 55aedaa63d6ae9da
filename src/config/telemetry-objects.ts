/**
 * telemetry.istio.io Telemetry, and the Istio kinds Trellis accepts as known
 * but never applies (EnvoyFilter, WasmPlugin, ProxyConfig, the retired
 * Mixer QuotaSpec): each of those is reported as CONFIG_UNSUPPORTED, so it
 * is typed only as far as validation and that report read it.
 */
import type { KObject, PolicyTargetReference } from './objects.js';

export type WorkloadMode = 'CLIENT' | 'SERVER' | 'CLIENT_AND_SERVER';
export interface ProviderRef {
  name: string;
}
/** One entry of spec.accessLogging: which providers, for which side of the proxy, on or off. */
export interface AccessLogging {
  providers?: ProviderRef[];
  match?: { mode?: WorkloadMode };
  disabled?: boolean;
  filter?: { expression?: string };
}
export interface TelemetrySpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  accessLogging?: AccessLogging[];
  metrics?: Record<string, unknown>[];
  tracing?: Record<string, unknown>[];
}
export type Telemetry = KObject<'Telemetry', TelemetrySpec | undefined>;

export type EnvoyFilter = KObject<'EnvoyFilter', Record<string, unknown> | undefined>;
export type WasmPlugin = KObject<'WasmPlugin', Record<string, unknown> | undefined>;
export type ProxyConfig = KObject<'ProxyConfig', Record<string, unknown> | undefined>;
export type QuotaSpec = KObject<'QuotaSpec', Record<string, unknown> | undefined>;
