import type { Telemetry } from '../../config/objects.js';
import type { ApplicableTelemetries } from './model.js';
import { groupByNamespace } from './policies.js';
import { isEmpty, selectorMatches } from './labels.js';

/** A Telemetry with targetRef(s) configures gateways and waypoints of the Gateway API, never a sidecar. */
function targetsRefs(t: Telemetry): boolean {
  return t.spec?.targetRef !== undefined || (t.spec?.targetRefs?.length ?? 0) > 0;
}

export class TelemetryIndex {
  readonly #byNs: Map<string, Telemetry[]>;

  constructor(telemetries: readonly Telemetry[], readonly rootNamespace: string) {
    this.#byNs = groupByNamespace(telemetries.filter((t) => !targetsRefs(t)));
  }

  /** True when no Telemetry configures any sidecar: translation can skip the lookup. */
  get empty(): boolean {
    return this.#byNs.size === 0;
  }

  applicable(namespace: string, labels: Readonly<Record<string, string>>): ApplicableTelemetries {
    const wide = (ns: string) => this.#byNs.get(ns)?.find((t) => isEmpty(t.spec?.selector?.matchLabels));
    const workload = this.#byNs.get(namespace)?.find((t) => !isEmpty(t.spec?.selector?.matchLabels) && selectorMatches(t.spec?.selector?.matchLabels, labels));
    return {
      mesh: wide(this.rootNamespace),
      namespace: namespace === this.rootNamespace ? undefined : wide(namespace),
      workload,
    };
  }
}
