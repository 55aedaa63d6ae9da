/**
 * Applying and removing the capture rules in the current network namespace.
 * Each family is one `iptables-restore --noflush` run that removes what a
 * previous run left and writes the new rules in the same COMMIT, so running
 * twice gives the same rules, and other people's rules are never touched.
 */
import { logger } from '../log.js';
import { buildCaptureRules } from './capture.js';
import type { CaptureConfig } from './config.js';
import { detectBackend, type Backend, type BackendKind } from './backend.js';
import { run, runChecked } from './exec.js';
import { renderRestore } from './render.js';
import { findStale } from './restore-text.js';
import type { Family, Rule } from './rules.js';

const log = logger('iptables');

export interface ApplyOptions {
  /** Use iptables-nft-* or iptables-legacy-* explicitly instead of the system's iptables. */
  backend?: BackendKind;
  /**
   * Apply inside this network namespace (/var/run/netns/NAME) rather than
   * the current one: every command runs under `ip netns exec` (how `trellis
   * up` runs the init step of many pods without a process per pod).
   */
  netns?: string;
}

/** run/runChecked, inside opts.netns when set. */
export interface Commands {
  run: typeof run;
  runChecked: typeof runChecked;
}

export function commands(netns: string | undefined): Commands {
  if (netns === undefined) return { run, runChecked };
  const wrap = (cmd: string, args: readonly string[]) => ['netns', 'exec', netns, cmd, ...args];
  return {
    run: (cmd, args, input, timeoutMs) => run('ip', wrap(cmd, args), input, timeoutMs),
    runChecked: (cmd, args, input) => runChecked('ip', wrap(cmd, args), input),
  };
}

export interface ApplyResult {
  backend: Backend;
  /** The restore input each family was given ('' when there was nothing to do). */
  restoreInput: Partial<Record<Family, string>>;
}

/** Writes the capture rules for `cfg` (replacing any earlier ones of ours). */
export async function applyCapture(cfg: CaptureConfig, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const sh = commands(opts.netns);
  const backend = await detectBackend(opts.backend, sh.run);
  const rules = buildCaptureRules(cfg);
  const restoreInput: ApplyResult['restoreInput'] = {};
  restoreInput.v4 = await replaceFamily(sh, backend, 'v4', rules.v4, true);
  restoreInput.v6 = await replaceFamily(sh, backend, 'v6', rules.v6, cfg.ipv6);
  if (cfg.inboundMode === 'TPROXY') await setupPolicyRoute(sh, tproxyRoute(cfg), cfg.ipv6);
  else await removePolicyRoute(sh, tproxyRoute(cfg));
  log.debug('capture rules applied', { backend: backend.kind, ipv6: cfg.ipv6, mode: cfg.inboundMode });
  return { backend, restoreInput };
}

/** Removes exactly what applyCapture added (our chains, our rules in built-in chains, TPROXY routes). */
export async function cleanupCapture(cfg: CaptureConfig, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const sh = commands(opts.netns);
  const backend = await detectBackend(opts.backend, sh.run);
  const restoreInput: ApplyResult['restoreInput'] = {};
  restoreInput.v4 = await replaceFamily(sh, backend, 'v4', [], true);
  restoreInput.v6 = await replaceFamily(sh, backend, 'v6', [], false);
  await removePolicyRoute(sh, tproxyRoute(cfg));
  log.debug('capture rules removed', { backend: backend.kind });
  return { backend, restoreInput };
}

/**
 * One family: read what is there, then one restore. `required` false means
 * a family the kernel lacks (IPv6 disabled) is skipped instead of failing.
 */
export async function replaceFamily(sh: Commands, backend: Backend, family: Family, rules: Rule[], required: boolean): Promise<string> {
  let saved: string;
  try {
    saved = await sh.runChecked(backend.save(family), []);
  } catch (err) {
    if (required || rules.length > 0) throw err;
    log.debug('skipping family', { family, reason: String(err) });
    return '';
  }
  const input = renderRestore(rules, findStale(saved));
  // --wait: the legacy back end's xtables lock is shared by every namespace (pods starting together).
  if (input !== '') await sh.runChecked(backend.restore(family), ['--noflush', '--wait', '10'], input);
  return input;
}

/**
 * A policy route: packets carrying `mark` are looked up in `table`, which
 * routes everything to lo (so replies reach a transparent socket in the
 * namespace instead of leaving by eth0).
 */
export interface PolicyRoute {
  /** As `ip rule` takes it: "1337", or "0x111/0xfff". */
  mark: string;
  table: number;
  /** The rule's preference (`pref`); the kernel picks one when unset. */
  priority?: number;
}

function tproxyRoute(cfg: CaptureConfig): PolicyRoute {
  return { mark: String(cfg.tproxyMark), table: cfg.tproxyRouteTable };
}

function routeArgs(p: PolicyRoute, fam: '-4' | '-6') {
  const table = String(p.table);
  const selector = ['fwmark', p.mark, ...(p.priority === undefined ? [] : ['pref', String(p.priority)]), 'lookup', table];
  return {
    rule: [fam, 'rule', 'add', ...selector],
    route: [fam, 'route', 'replace', 'local', fam === '-4' ? '0.0.0.0/0' : '::/0', 'dev', 'lo', 'table', table],
    ruleDel: [fam, 'rule', 'del', ...selector],
    flush: [fam, 'route', 'flush', 'table', table],
  };
}

/** One policy rule and one local route per family (replacing any earlier ones). */
export async function setupPolicyRoute(sh: Commands, p: PolicyRoute, ipv6: boolean): Promise<void> {
  await removePolicyRoute(sh, p);
  for (const fam of ipv6 ? (['-4', '-6'] as const) : (['-4'] as const)) {
    const a = routeArgs(p, fam);
    await sh.runChecked('ip', a.rule);
    await sh.runChecked('ip', a.route);
  }
}

/** Best effort: nothing to remove (or no `ip` binary in REDIRECT-only setups) is not an error. */
export async function removePolicyRoute(sh: Commands, p: PolicyRoute): Promise<void> {
  try {
    for (const fam of ['-4', '-6'] as const) {
      const a = routeArgs(p, fam);
      // Duplicates may exist after a crash between add and record; bounded.
      for (let i = 0; i < 8; i++) if ((await sh.run('ip', a.ruleDel)).code !== 0) break;
      await sh.run('ip', a.flush);
    }
  } catch (err) {
    log.debug('policy routing not removed', { reason: String(err) });
  }
}
