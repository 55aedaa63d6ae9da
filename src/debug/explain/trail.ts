/** The steps of one walk, in order, with the outcome once something decides it. */
import { StreamInfo } from '../../proxy/telemetry/stream-info.js';
import type { Outcome, Step, StepKind } from './types.js';

export class Trail {
  readonly steps: Step[] = [];
  readonly notes: string[] = [];
  readonly side: Step['side'];

  constructor(side: Step['side']) {
    this.side = side;
  }

  add(kind: StepKind, summary: string, why: string[] = [], source?: string): void {
    this.steps.push({ kind, side: this.side, summary, why, ...(source ? { source } : {}) });
  }
}

/** An outcome whose flags are printed in Envoy's order, by the proxy's own StreamInfo. */
export function outcome(status: number, flags: readonly string[], details: string, upstreamCluster: string, fromApp = false): Outcome {
  const info = new StreamInfo();
  for (const f of flags) info.addFlag(f);
  return { status, responseFlags: info.flagString(), responseCodeDetails: details, upstreamCluster: upstreamCluster || '-', ...(fromApp ? { fromApp } : {}) };
}
