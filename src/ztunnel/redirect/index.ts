/** Ambient mode's in-pod redirection (Istio's CNI since 1.21): config, pure rules, apply and cleanup. */
export {
  defaultInpodConfig, dnsCaptured, markMask, DEFAULT_PROBE_SNAT_V4, DEFAULT_PROBE_SNAT_V6, INPOD_MARK, INPOD_MASK,
  INPOD_ROUTE_TABLE, INPOD_RULE_PRIORITY, INPOD_TPROXY_MARK, ZTUNNEL_PORTS, type InpodConfig, type PodDnsOverride,
} from './config.js';
export { buildInpodRules, buildHostProbeRules, PROBE_IPSET, type InpodRules } from './inpod-rules.js';
export { applyInpodRedirect, cleanupInpodRedirect, INPOD_ROUTE } from './apply.js';
