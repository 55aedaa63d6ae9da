/**
 * Which access log a sidecar writes on each side, from the Telemetries that
 * apply to it — istiod's mergeLogs, for the one provider Trellis has: the
 * built-in `envoy` (a text log on the proxy's stdout). Pure.
 */
import type { AccessLogging, WorkloadMode } from '../../../config/objects.js';
import type { ApplicableTelemetries } from '../../registry/model.js';

/**
 * `mesh-default`: no Telemetry configures access logging, so the mesh's
 * default applies (Trellis: meshConfig.accessLogFile /dev/stdout, see
 * docs/ARCHITECTURE.md); `envoy`: the envoy provider is on; `off`:
 * Telemetry configured logging and left no provider Trellis knows on.
 */
export type AccessLogChoice = 'mesh-default' | 'envoy' | 'off';

/** CLIENT is the outbound side (and a gateway's), SERVER the inbound side. */
export interface AccessLogPolicy {
  readonly client: AccessLogChoice;
  readonly server: AccessLogChoice;
}

export const meshDefaultPolicy: AccessLogPolicy = Object.freeze({ client: 'mesh-default', server: 'mesh-default' });

/** The built-in provider's name; istiod looks providers up ignoring case. */
export const envoyProvider = 'envoy';
export const isEnvoyProvider = (name: string) => name.toLowerCase() === envoyProvider;

const names = (e: AccessLogging) => (e.providers ?? []).map((p) => p.name);

function matchesMode(e: AccessLogging, mode: 'CLIENT' | 'SERVER'): boolean {
  const m: WorkloadMode | undefined = e.match?.mode;
  return m === undefined || m === 'CLIENT_AND_SERVER' || m === mode;
}

/**
 * The providers left on for one side. A level that names providers replaces
 * the set in scope (a provider only a parent named is dropped); an entry
 * without providers means its parent entry's; `disabled` removes, anything
 * else adds. Trellis's mesh config names no default providers.
 */
function enabledProviders(levels: readonly (readonly AccessLogging[])[], mode: 'CLIENT' | 'SERVER'): Set<string> {
  let inScope: string[] = [];
  for (const entries of levels) {
    const named = entries.flatMap(names);
    if (named.length > 0) inScope = named;
  }
  const scope = new Set(inScope);
  const on = new Set<string>();
  let parent: string[] = [];
  for (const entries of levels) {
    for (const e of entries) {
      const own = names(e);
      const providers = own.length > 0 ? own : parent;
      parent = providers;
      for (const p of providers) {
        if (!scope.has(p) || !matchesMode(e, mode)) continue;
        if (e.disabled === true) on.delete(p);
        else on.add(p);
      }
    }
  }
  return on;
}

export function accessLogPolicy(applicable: ApplicableTelemetries | undefined): AccessLogPolicy {
  if (!applicable) return meshDefaultPolicy;
  const levels = [applicable.mesh, applicable.namespace, applicable.workload]
    .map((t) => t?.spec?.accessLogging ?? [])
    .filter((l) => l.length > 0);
  // istiod: no Telemetry configures logging (and no default provider) → the legacy mesh setting.
  if (levels.length === 0) return meshDefaultPolicy;
  const choice = (mode: 'CLIENT' | 'SERVER'): AccessLogChoice => ([...enabledProviders(levels, mode)].some(isEnvoyProvider) ? 'envoy' : 'off');
  return { client: choice('CLIENT'), server: choice('SERVER') };
}

/** A short stable key for memoising what a policy produces. */
export function policyKey(p: AccessLogPolicy): string {
  return `${p.client}/${p.server}`;
}
