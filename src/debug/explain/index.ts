/**
 * The programmatic face of `trellis explain` (the dashboard's "explain this
 * edge"): explainRequest fetches and walks, renderExplanation prints; the
 * pure halves are there for callers that hold the config already.
 */
export { explainRequest, type ExplainInput } from './explain.js';
export { renderExplanation } from './render-text.js';
export { finishWalk, walkOutbound } from './explain-walk.js';
export type { Explanation, Outcome, ProxySnapshot, RequestSpec, Step, StepKind } from './types.js';
