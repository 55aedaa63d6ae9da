/**
 * Writing and removing the in-pod rules and the reply route in a pod's
 * network namespace, with the sidecar capture's machinery (src/iptables):
 * one `iptables-restore --noflush` per family that replaces whatever of ours
 * is there (sidecar capture included: a pod is in one mode at a time), and
 * the policy route replaced rather than added twice. Applying twice gives
 * the same state; cleanup leaves nothing of ours, and others' rules alone.
 */
import { logger } from '../../log.js';
import {
  commands, detectBackend, removePolicyRoute, replaceFamily, setupPolicyRoute,
  type ApplyOptions, type ApplyResult, type PolicyRoute,
} from '../../iptables/index.js';
import { INPOD_ROUTE_TABLE, INPOD_RULE_PRIORITY, INPOD_TPROXY_MARK, markMask, type InpodConfig } from './config.js';
import { buildInpodRules } from './inpod-rules.js';

const log = logger('ztunnel');

/** `ip rule add fwmark 0x111/0xfff pref 32764 lookup 100`, and `local default dev lo` in table 100. */
export const INPOD_ROUTE: PolicyRoute = { mark: markMask(INPOD_TPROXY_MARK), table: INPOD_ROUTE_TABLE, priority: INPOD_RULE_PRIORITY };

export async function applyInpodRedirect(cfg: InpodConfig, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const sh = commands(opts.netns);
  const backend = await detectBackend(opts.backend, sh.run);
  const rules = buildInpodRules(cfg);
  // The route first: rules that mark replies before the route exists would send them out of eth0.
  await setupPolicyRoute(sh, INPOD_ROUTE, cfg.ipv6);
  const restoreInput: ApplyResult['restoreInput'] = {};
  restoreInput.v4 = await replaceFamily(sh, backend, 'v4', rules.v4, true);
  restoreInput.v6 = await replaceFamily(sh, backend, 'v6', rules.v6, cfg.ipv6);
  log.debug('in-pod redirection applied', { backend: backend.kind, ipv6: cfg.ipv6, netns: opts.netns });
  return { backend, restoreInput };
}

/** Removes our chains and rules (both families) and the reply route; nothing there is not an error. */
export async function cleanupInpodRedirect(opts: ApplyOptions = {}): Promise<ApplyResult> {
  const sh = commands(opts.netns);
  const backend = await detectBackend(opts.backend, sh.run);
  const restoreInput: ApplyResult['restoreInput'] = {};
  restoreInput.v4 = await replaceFamily(sh, backend, 'v4', [], true);
  restoreInput.v6 = await replaceFamily(sh, backend, 'v6', [], false);
  await removePolicyRoute(sh, INPOD_ROUTE);
  log.debug('in-pod redirection removed', { backend: backend.kind, netns: opts.netns });
  return { backend, restoreInput };
}
