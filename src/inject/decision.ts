/**
 * Whether a pod gets a sidecar, rule by rule, as Istio decides it. In Istio
 * the decision is split in two: the MutatingWebhookConfiguration's
 * namespace and object selectors decide whether istiod is asked at all, and
 * istiod's injectRequired decides the rest. Trellis evaluates both here, so
 * that the webhook, kube-inject and check-inject share one answer and can
 * print why. Pure: no I/O, no clock.
 */
import type { InjectionConfig } from './config.js';
import type { ObjectMeta } from './k8s-types.js';
import { formatSelector, selectorError, selectorIsEmpty, selectorMatches } from './label-selector.js';
import { ANNOTATION, LABEL } from './names.js';

export type RuleName =
  | 'already-injected'
  | 'host-network'
  | 'ignored-namespace'
  | 'control-plane-namespace'
  | 'webhook-selector'
  | 'pod-inject'
  | 'never-inject-selector'
  | 'always-inject-selector'
  | 'policy';

export interface RuleResult {
  rule: RuleName;
  /** inject / skip decide (the first one in order wins); pass leaves it to the next rule. */
  verdict: 'inject' | 'skip' | 'pass';
  reason: string;
}

export interface Decision {
  inject: boolean;
  /** The pod already has a sidecar: it is left as it is (no patch). */
  alreadyInjected: boolean;
  decidedBy: RuleName;
  reason: string;
  /** Every rule in the order they are applied, with its own verdict. */
  rules: RuleResult[];
}

export interface DecisionInput {
  metadata: ObjectMeta;
  spec: { hostNetwork?: boolean; containers?: { name: string }[]; initContainers?: { name: string }[] };
  /** The pod's namespace (the review's, or the workload's for kube-inject). */
  namespace: string;
  /**
   * The namespace's labels. Undefined in the webhook means the control plane
   * does not know the namespace: the API server called the webhook, so its
   * namespaceSelector matched, and the namespace counts as selected — istiod
   * itself never reads namespace labels.
   */
  namespaceLabels?: Readonly<Record<string, string>>;
  /** kube-inject consults neither namespace labels, nor selectors, nor the policy (istioctl kube-inject's rules). */
  mode: 'webhook' | 'kube-inject';
}

type Rule = (input: DecisionInput, cfg: InjectionConfig, explicit: boolean | undefined) => RuleResult;

const pass = (rule: RuleName, reason: string): RuleResult => ({ rule, verdict: 'pass', reason });
const skip = (rule: RuleName, reason: string): RuleResult => ({ rule, verdict: 'skip', reason });
const inject = (rule: RuleName, reason: string): RuleResult => ({ rule, verdict: 'inject', reason });

/** The pod's own word: the label sidecar.istio.io/inject, else the annotation; true/false, or undefined (invalid values included). */
export function podInjectValue(meta: ObjectMeta): { value: string | undefined; from: 'label' | 'annotation' | undefined } {
  const label = meta.labels?.[LABEL.inject];
  if (label !== undefined) return { value: label, from: 'label' };
  const anno = meta.annotations?.[ANNOTATION.inject];
  return anno !== undefined ? { value: anno, from: 'annotation' } : { value: undefined, from: undefined };
}

function explicitChoice(meta: ObjectMeta): boolean | undefined {
  const { value } = podInjectValue(meta);
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

const alreadyInjected: Rule = ({ metadata }) => (metadata.annotations?.[ANNOTATION.status] !== undefined
  ? skip('already-injected', `the pod has the annotation ${ANNOTATION.status}: it is injected already and is left unchanged`)
  : pass('already-injected', `no ${ANNOTATION.status} annotation`));

const hostNetwork: Rule = ({ spec }) => (spec.hostNetwork === true
  ? skip('host-network', 'hostNetwork: true — capture rules would rewrite the node\'s network, never injected')
  : pass('host-network', 'the pod has its own network namespace'));

const ignoredNamespace: Rule = ({ namespace }, cfg) => (cfg.ignoredNamespaces.includes(namespace)
  ? skip('ignored-namespace', `namespace ${namespace} is a Kubernetes system namespace (${cfg.ignoredNamespaces.join(', ')}), never injected`)
  : pass('ignored-namespace', `namespace ${namespace || '(none)'} is not a system namespace`));

const controlPlaneNamespace: Rule = ({ namespace }, cfg) => (namespace !== '' && namespace === cfg.controlPlaneNamespace
  ? skip('control-plane-namespace', `namespace ${namespace} is the control plane's own, never injected`)
  : pass('control-plane-namespace', `namespace ${namespace || '(none)'} is not the control plane's (${cfg.controlPlaneNamespace})`));

/** Istio's MutatingWebhookConfiguration for the default revision and for `cfg.revision`, as one function. */
const webhookSelector: Rule = (input, cfg) => {
  if (input.mode === 'kube-inject') return pass('webhook-selector', 'kube-inject does not read namespace labels (as istioctl kube-inject)');
  const ns = input.namespaceLabels;
  if (ns === undefined) {
    return pass('webhook-selector', `namespace ${input.namespace} is not in the control plane's config: the API server's namespaceSelector chose to call the webhook, so it counts as selected`);
  }
  const podLabel = input.metadata.labels?.[LABEL.inject];
  const podRev = input.metadata.labels?.[LABEL.rev];
  const optedOut = podLabel === 'false' ? skip('webhook-selector', `the pod label ${LABEL.inject}=false excludes it from the webhook`) : undefined;
  const nsInjection = ns[LABEL.injection];
  if (nsInjection !== undefined) {
    if (nsInjection !== 'enabled') return skip('webhook-selector', `the namespace label ${LABEL.injection}=${nsInjection} turns injection off for every pod in it`);
    return optedOut ?? pass('webhook-selector', `the namespace label ${LABEL.injection}=enabled selects the pod`);
  }
  const nsRev = ns[LABEL.rev];
  if (nsRev !== undefined) {
    if (nsRev !== cfg.revision) return skip('webhook-selector', `the namespace label ${LABEL.rev}=${nsRev} selects another revision (this is ${cfg.revision})`);
    return optedOut ?? pass('webhook-selector', `the namespace label ${LABEL.rev}=${nsRev} selects this revision`);
  }
  if (podRev !== undefined) {
    if (podRev !== cfg.revision) return skip('webhook-selector', `the pod label ${LABEL.rev}=${podRev} selects another revision (this is ${cfg.revision})`);
    return optedOut ?? pass('webhook-selector', `the pod label ${LABEL.rev}=${podRev} selects this revision (the namespace has no injection label)`);
  }
  if (podLabel === 'true') return pass('webhook-selector', `the pod label ${LABEL.inject}=true selects the pod (the namespace has no injection label)`);
  const anno = input.metadata.annotations?.[ANNOTATION.inject] === 'true'
    ? ` (the annotation ${ANNOTATION.inject}: "true" cannot opt in: the webhook's objectSelector reads labels only — use the label)` : '';
  return skip('webhook-selector', `no namespace label ${LABEL.injection}=enabled or ${LABEL.rev}=${cfg.revision}, and no pod label ${LABEL.inject}=true or ${LABEL.rev}=${cfg.revision}${anno}`);
};

const podInject: Rule = ({ metadata }) => {
  const { value, from } = podInjectValue(metadata);
  const where = from === 'label' ? 'label' : 'annotation';
  if (value === 'true') return inject('pod-inject', `the pod ${where} ${LABEL.inject}: "true"`);
  if (value === 'false') return skip('pod-inject', `the pod ${where} ${LABEL.inject}: "false"`);
  if (value !== undefined) return pass('pod-inject', `the pod ${where} ${LABEL.inject}: ${JSON.stringify(value)} is neither "true" nor "false": ignored, as Istio does`);
  return pass('pod-inject', `the pod has no ${LABEL.inject} label or annotation`);
};

function selectorRule(rule: 'never-inject-selector' | 'always-inject-selector'): Rule {
  return (input, cfg, explicit) => {
    if (input.mode === 'kube-inject') return pass(rule, 'kube-inject does not apply the injector\'s selectors (as istioctl kube-inject)');
    if (explicit !== undefined) return pass(rule, 'not consulted: the pod said explicitly');
    const selectors = rule === 'never-inject-selector' ? cfg.neverInjectSelector : cfg.alwaysInjectSelector;
    const labels = input.metadata.labels ?? {};
    const hit = selectors.find((s) => !selectorIsEmpty(s) && selectorError(s) === undefined && selectorMatches(s, labels));
    if (!hit) return pass(rule, selectors.length === 0 ? 'none configured' : 'no selector matches the pod\'s labels');
    const why = `the pod's labels match ${rule === 'never-inject-selector' ? 'neverInjectSelector' : 'alwaysInjectSelector'} ${formatSelector(hit)}`;
    return rule === 'never-inject-selector' ? skip(rule, why) : inject(rule, why);
  };
}

const policy: Rule = (input, cfg) => {
  const p = input.mode === 'kube-inject' ? 'enabled' : cfg.policy;
  return p === 'enabled'
    ? inject('policy', `injection policy "enabled": a selected pod that says nothing is injected`)
    : skip('policy', `injection policy "disabled": only pods that ask (${LABEL.inject}: "true") are injected`);
};

const RULES: readonly Rule[] = [
  alreadyInjected, hostNetwork, ignoredNamespace, controlPlaneNamespace, webhookSelector,
  podInject, selectorRule('never-inject-selector'), selectorRule('always-inject-selector'), policy,
];

/** Decides, rule by rule; the first rule that says inject or skip wins, and every rule is reported. */
export function decide(input: DecisionInput, cfg: InjectionConfig): Decision {
  const explicit = explicitChoice(input.metadata);
  const rules = RULES.map((r) => r(input, cfg, explicit));
  const decisive = rules.find((r) => r.verdict !== 'pass')!;
  return {
    inject: decisive.verdict === 'inject',
    alreadyInjected: decisive.rule === 'already-injected',
    decidedBy: decisive.rule,
    reason: decisive.reason,
    rules,
  };
}
