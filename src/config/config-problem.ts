/**
 * Analyzer codes: Istio's (IST*, with Istio's names and wording), and
 * Trellis' own (TRL*) for checks Istio's analyzers do not make.
 */
export type AnalysisCode = 'IST0101' | 'IST0109' | 'IST0118' | 'IST0150' | 'TRL0001' | 'TRL0002' | 'TRL0003' | 'TRL0004' | 'CONFIG_UNSUPPORTED';
export type AnalysisName =
  | 'ReferencedResourceNotFound'
  | 'ConflictingMeshGatewayVirtualServiceHosts'
  | 'PortNameIsNotUnderNamingConvention'
  | 'ExternalNameServiceTypeInvalidPortName'
  | 'MultiplePeerAuthenticationsWithoutWorkloadSelectors'
  | 'ConflictingPeerAuthenticationWorkloadSelectors'
  | 'GatewayApiReferenceRefused' | 'WaypointNotBound'
  | 'Unsupported';

/**
 * A problem with the configuration: where it is and why. CONFIG_PARSE,
 * CONFIG_INVALID and CONFIG_CONFLICT come from loading (the document was
 * skipped, or lost a conflict); CONFIG_SOURCE: the source itself is
 * unavailable (`file` is the directory, `line` 0) and its last good config is
 * being served; IST* problems are Istio analyzer findings about accepted
 * objects (see controlplane/analyze/), which stay in service as istiod keeps
 * them; CONFIG_UNSUPPORTED: valid Istio config that Trellis does not
 * implement, reported by the analysis with what Trellis does instead.
 * Owned by config/ (loading reports it first); the control plane imports it
 * from here, never the other way round.
 */
export interface ConfigProblem {
  code: 'CONFIG_PARSE' | 'CONFIG_INVALID' | 'CONFIG_CONFLICT' | 'CONFIG_SOURCE' | AnalysisCode;
  file: string;
  /** 1-based, within the file as it is now (0 for CONFIG_SOURCE). */
  line: number;
  reason: string;
  /** Analyzer findings only: Istio's message name (e.g. ReferencedResourceNotFound) and level. */
  name?: AnalysisName;
  severity?: 'Error' | 'Warning' | 'Info';
}
