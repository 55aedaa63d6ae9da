/** Transparent interception: capture config, rule rendering, apply and cleanup. */
export { defaultCaptureConfig, PROXY_PORTS, type CaptureConfig, type InterceptionMode, type Selection } from './config.js';
export { buildCaptureRules, type CaptureRules } from './capture.js';
export { renderRestore, ruleLine, type StaleState, type StaleTable } from './render.js';
export { parseTables, findStale, ourRules, tokenize, type ParsedTable, type ParsedRule } from './restore-text.js';
export { addIptablesOptions, configFromOptions, parseIptablesArgs, nameservers, type ParsedFlags } from './flags.js';
export {
  applyCapture, cleanupCapture, commands, replaceFamily, setupPolicyRoute, removePolicyRoute,
  type ApplyOptions, type ApplyResult, type Commands, type PolicyRoute,
} from './apply.js';
export { detectBackend, parseBackendKind, type Backend, type BackendKind } from './backend.js';
export { CHAIN, CHAIN_PREFIX, OWNER_COMMENT, IP_VERSION_SPECIFIC, RuleBuilder, type Rule, type Family, type Table } from './rules.js';
