/** The injection decision, rule by rule, as Istio's webhook selectors and injectRequired take it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultInjectionConfig, type InjectionConfig } from '../../../src/inject/config.js';
import { decide, type DecisionInput } from '../../../src/inject/decision.js';

const cfg = (over: Partial<InjectionConfig> = {}): InjectionConfig => ({ ...defaultInjectionConfig(), ...over });
const pod = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}, hostNetwork = false) => ({
  metadata: { name: 'p', labels, annotations }, spec: { hostNetwork, containers: [{ name: 'app' }] },
});
const input = (p: ReturnType<typeof pod>, namespace: string, namespaceLabels: Record<string, string> | undefined, mode: DecisionInput['mode'] = 'webhook'): DecisionInput =>
  ({ ...p, namespace, ...(namespaceLabels ? { namespaceLabels } : {}), mode });

const ENABLED = { 'istio-injection': 'enabled' };

describe('decide', () => {
  const table: [string, DecisionInput, Partial<InjectionConfig>, boolean, string][] = [
    ['enabled namespace, silent pod', input(pod(), 'shop', ENABLED), {}, true, 'policy'],
    ['disabled namespace beats the pod\'s label', input(pod({ 'sidecar.istio.io/inject': 'true' }), 'shop', { 'istio-injection': 'disabled' }), {}, false, 'webhook-selector'],
    ['unlabelled namespace, silent pod', input(pod(), 'shop', {}), {}, false, 'webhook-selector'],
    ['unlabelled namespace, pod label true', input(pod({ 'sidecar.istio.io/inject': 'true' }), 'shop', {}), {}, true, 'pod-inject'],
    ['unlabelled namespace, pod annotation true: the objectSelector reads labels only', input(pod({}, { 'sidecar.istio.io/inject': 'true' }), 'shop', {}), {}, false, 'webhook-selector'],
    ['enabled namespace, pod annotation false', input(pod({}, { 'sidecar.istio.io/inject': 'false' }), 'shop', ENABLED), {}, false, 'pod-inject'],
    ['the label wins over the annotation', input(pod({ 'sidecar.istio.io/inject': 'true' }, { 'sidecar.istio.io/inject': 'false' }), 'shop', ENABLED), {}, true, 'pod-inject'],
    ['an invalid value falls back to the policy (Istio\'s injectRequired)', input(pod({}, { 'sidecar.istio.io/inject': 'yes' }), 'shop', ENABLED), {}, true, 'policy'],
    ['hostNetwork', input(pod({ 'sidecar.istio.io/inject': 'true' }, {}, true), 'shop', ENABLED), {}, false, 'host-network'],
    ['kube-system', input(pod({ 'sidecar.istio.io/inject': 'true' }), 'kube-system', ENABLED), {}, false, 'ignored-namespace'],
    ['kube-public', input(pod(), 'kube-public', ENABLED), {}, false, 'ignored-namespace'],
    ['the control plane\'s namespace', input(pod(), 'trellis', ENABLED), { controlPlaneNamespace: 'trellis' }, false, 'control-plane-namespace'],
    ['this revision\'s namespace label', input(pod(), 'shop', { 'istio.io/rev': 'canary' }), { revision: 'canary' }, true, 'policy'],
    ['another revision\'s namespace label', input(pod(), 'shop', { 'istio.io/rev': 'canary' }), {}, false, 'webhook-selector'],
    ['istio-injection wins over istio.io/rev', input(pod(), 'shop', { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' }), {}, true, 'policy'],
    ['a pod label istio.io/rev of this revision', input(pod({ 'istio.io/rev': 'default' }), 'shop', {}), {}, true, 'policy'],
    ['already injected', input(pod({}, { 'sidecar.istio.io/status': '{}' }), 'shop', ENABLED), {}, false, 'already-injected'],
    ['neverInjectSelector', input(pod({ app: 'batch' }), 'shop', ENABLED), { neverInjectSelector: [{ matchLabels: { app: 'batch' } }] }, false, 'never-inject-selector'],
    ['neverInjectSelector does not overrule the pod\'s own word', input(pod({ app: 'batch', 'sidecar.istio.io/inject': 'true' }), 'shop', ENABLED), { neverInjectSelector: [{ matchLabels: { app: 'batch' } }] }, true, 'pod-inject'],
    ['alwaysInjectSelector under policy disabled', input(pod({ tier: 'web' }), 'shop', ENABLED), { policy: 'disabled', alwaysInjectSelector: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }] }, true, 'always-inject-selector'],
    ['an empty selector matches nothing (Istio skips it)', input(pod({ tier: 'web' }), 'shop', ENABLED), { policy: 'disabled', alwaysInjectSelector: [{}] }, false, 'policy'],
    ['policy disabled, silent pod', input(pod(), 'shop', ENABLED), { policy: 'disabled' }, false, 'policy'],
    ['an unknown namespace counts as selected (the API server asked)', input(pod(), 'elsewhere', undefined), {}, true, 'policy'],
    ['kube-inject reads no namespace labels', input(pod(), 'shop', undefined, 'kube-inject'), { policy: 'disabled', neverInjectSelector: [{ matchLabels: { app: 'x' } }] }, true, 'policy'],
    ['kube-inject honours the pod\'s opt-out', input(pod({}, { 'sidecar.istio.io/inject': 'false' }), 'shop', undefined, 'kube-inject'), {}, false, 'pod-inject'],
  ];
  for (const [what, i, over, inject, decidedBy] of table) {
    test(what, () => {
      const d = decide(i, cfg(over));
      assert.equal(d.inject, inject, d.reason);
      assert.equal(d.decidedBy, decidedBy, d.reason);
      assert.equal(d.rules.length, 9, 'every rule is reported');
      assert.ok(d.rules.every((r) => r.reason.length > 0));
    });
  }
});
