/**
 * Istio's injection test data (conformance/istio-inject, from
 * pkg/kube/inject/testdata/inject): every input with a golden is injected
 * by kube-inject's code with the settings Istio's test used for that case,
 * and each pod template must agree with Istio's on the decision and, when
 * injected, in meaning (istio-golden.ts says what is compared). Inputs
 * named *-bad-* must be refused. Cases that exercise what Trellis does not
 * do (Istio's custom templates, CNI, OpenShift, TPROXY, SPIRE, ...) are
 * listed with the reason and checked only for the decision.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { defaultInjectionConfig, type InjectionConfig } from '../../../src/inject/config.js';
import { injectObject } from '../../../src/inject/workloads.js';
import { TrellisError } from '../../../src/errors.js';
import { differences, injectedByIstio, INJECT_DIR, istioTemplatesOf, readDocs, templatesOf, type TemplateView } from './istio-golden.js';

type Settings = Partial<InjectionConfig>;

const STATUS_123: Settings = { agentPort: 123, readiness: { initialDelaySeconds: 100, periodSeconds: 200, failureThreshold: 300 } };
const CLASSIC: Settings = { nativeSidecars: false };
const HOLD: Settings = { holdApplicationUntilProxyStarts: true };

/** golden → [input, the settings Istio's inject_test.go gave that case]. Goldens not listed pair with X.yaml and the defaults. */
const CASES: Record<string, [string, Settings]> = {
  'hello-always.yaml.injected': ['hello.yaml', { imagePullPolicy: 'Always' }],
  'hello-never.yaml.injected': ['hello.yaml', { imagePullPolicy: 'Never' }],
  'hello-old-version.yaml.injected': ['hello.yaml', CLASSIC],
  'traffic-params.yaml.injected': ['traffic-params.yaml', {
    includeIPRanges: '127.0.0.1/24,10.96.0.1/24', excludeIPRanges: '10.96.0.2/24,10.96.0.3/24', excludeInboundPorts: '4,5,6', agentPort: 0,
  }],
  'status_params.yaml.injected': ['status_params.yaml', STATUS_123],
  'kubevirtInterfaces.yaml.injected': ['kubevirtInterfaces.yaml', STATUS_123],
  'reroute-virtual-interfaces.yaml.injected': ['reroute-virtual-interfaces.yaml', STATUS_123],
  'hello.proxyHoldsApplication.yaml.injected': ['hello.yaml', HOLD],
  'hello-probes.proxyHoldsApplication.yaml.injected': ['hello-probes.yaml', HOLD],
  'hello-probes-noProxyHoldApplication-ProxyConfig.yaml.injected': ['hello-probes-noProxyHoldApplication-ProxyConfig.yaml', HOLD],
  'merge-probers.yaml.injected': ['merge-probers.yaml', HOLD],
  'cronjob-old-version.yaml.injected': ['cronjob.yaml', CLASSIC],
  'daemonset-old-version.yaml.injected': ['daemonset.yaml', CLASSIC],
  'job-old-version.yaml.injected': ['job.yaml', CLASSIC],
  'pod-old-version.yaml.injected': ['pod.yaml', CLASSIC],
  'replicaset-old-version.yaml.injected': ['replicaset.yaml', CLASSIC],
  'statefulset-old-version.yaml.injected': ['statefulset.yaml', CLASSIC],
  'native-sidecar-old-version.yaml.injected': ['native-sidecar.yaml', CLASSIC],
  'proxy-override-args-native.yaml.injected': ['proxy-override-args.yaml', {}],
  'hello.yaml.cni.injected': ['hello.yaml', {}],
  'hello.yaml.proxyImageName.injected': ['hello.yaml', {}],
  'hello.yaml.proxyInitImageName.injected': ['hello.yaml', {}],
  'hello-tproxy.yaml.injected': ['hello.yaml', { interceptionMode: 'TPROXY' }],
  'hello-cncf-networks.yaml.injected': ['hello.yaml', {}],
  'hello-fips-140-3.yaml.injected': ['hello.yaml', {}],
  'hello-image-secrets-in-values.yaml.injected': ['hello.yaml', {}],
  'hello-mount-mtls-certs.yaml.injected': ['hello.yaml', {}],
  'hello-template-in-values.yaml.injected': ['hello.yaml', {}],
  'hello-multiple-image-secrets.yaml.injected': ['hello-image-pull-secret.yaml', {}],
  'proxy-override-runas.yaml.cni.injected': ['proxy-override-runas.yaml', {}],
  'proxy-override-runas.yaml.tproxy.injected': ['proxy-override-runas.yaml', { interceptionMode: 'TPROXY' }],
  // The .iop.yaml files' values.global.proxy.resources, with their nulls left out.
  'proxy-resources-null.yaml.injected': ['proxy-resources-null.yaml', { resources: { requests: { memory: '150Mi' }, limits: { memory: '500Mi' } } }],
  'proxy-resources-null-no-init.yaml.injected': ['proxy-resources-null-no-init.yaml', { resources: { requests: { memory: '150Mi' }, limits: { memory: '500Mi' } } }],
  'proxy-resources-zero.yaml.injected': ['proxy-resources-zero.yaml', { resources: { requests: { cpu: '0', memory: '150Mi' }, limits: { cpu: '0', memory: '500Mi' } } }],
  'proxy-resources-memory-null.yaml.injected': ['proxy-resources-memory-null.yaml', { resources: { requests: { cpu: '50m' }, limits: { cpu: '100m' } } }],
  'proxy-resources-mixed-null.yaml.injected': ['proxy-resources-mixed-null.yaml', { resources: { requests: { cpu: '100m', 'ephemeral-storage': '1Gi' }, limits: { memory: '500Mi' } } }],
};

/** Goldens whose differences are Istio features Trellis does not implement: the decision is still compared. */
const DECISION_ONLY: Record<string, string> = {
  'hello.yaml.cni.injected': 'Istio CNI (no init container)',
  'proxy-override-runas.yaml.cni.injected': 'Istio CNI',
  'hello-cncf-networks.yaml.injected': 'Istio CNI with Multus',
  'hello-existing-cncf-networks.yaml.injected': 'Istio CNI with Multus',
  'hello-existing-cncf-networks-json.yaml.injected': 'Istio CNI with Multus',
  'hello-tproxy.yaml.injected': 'TPROXY interception (refused by Trellis\'s injector)',
  'proxy-override-runas.yaml.tproxy.injected': 'TPROXY interception',
  'hello-openshift.yaml.injected': 'OpenShift uid ranges',
  'hello-openshift-tproxy.yaml.injected': 'OpenShift',
  'hello-openshift-custom-injection.yaml.injected': 'OpenShift',
  'custom-template.yaml.injected': 'Istio\'s custom injection templates',
  'multiple-templates.yaml.injected': 'Istio\'s custom injection templates',
  'hello-template-in-values.yaml.injected': 'Istio\'s custom injection templates',
  'grpc-agent.yaml.injected': 'Istio\'s grpc-agent template (proxyless gRPC)',
  'grpc-simple.yaml.injected': 'Istio\'s grpc-simple template (proxyless gRPC)',
  'gateway.yaml.injected': 'Istio\'s gateway template',
  'gateway-spire.yaml.injected': 'Istio\'s gateway template and SPIRE',
  'gateway-with-default-container.yaml.injected': 'Istio\'s gateway template',
  'sidecar-spire.yaml.injected': 'SPIRE workload API sockets',
  'hello-mount-mtls-certs.yaml.injected': 'values.global.mountMtlsCerts',
  'hello-image-secrets-in-values.yaml.injected': 'imagePullSecrets from values',
  'hello-multiple-image-secrets.yaml.injected': 'imagePullSecrets from values',
  'hello-fips-140-3.yaml.injected': 'FIPS compliance policy',
  'hello-probes-localhost.yaml.injected': 'inboundTrafficPolicy LOCALHOST',
};

/**
 * Where Trellis differs from Istio on purpose: a difference line matching
 * the pattern is expected, for the reason given (docs/ARCHITECTURE.md,
 * "Sidecar injection").
 */
const AGENT_PORT_ANNOTATIONS = {
  match: /^annotations: /,
  why: 'prometheus.io/port names the agent port that serves the merged metrics (Istio names the mesh default 15020 even when the pod\'s agent listens elsewhere or not at all)',
};
const INTENDED: Record<string, { match: RegExp; why: string }[]> = {
  'status_params.yaml.injected': [AGENT_PORT_ANNOTATIONS],
  'status_annotations.yaml.injected': [AGENT_PORT_ANNOTATIONS],
  'status_annotations_zeroport.yaml.injected': [AGENT_PORT_ANNOTATIONS],
  'traffic-params.yaml.injected': [AGENT_PORT_ANNOTATIONS],
  'kubevirtInterfaces.yaml.injected': [AGENT_PORT_ANNOTATIONS],
  'reroute-virtual-interfaces.yaml.injected': [AGENT_PORT_ANNOTATIONS],
  'proxy-override-runas.yaml.injected': [{
    match: /^capture flags: .*"proxyGids":\["4321"\].*"proxyGids":\["1337"\]/,
    why: 'a proxy that runs as another group has that group exempted too (Istio moves only the uid and leaves gid 1337 exempt)',
  }],
};

interface Case {
  golden: string;
  input: string;
  settings: Settings;
}

function cases(): Case[] {
  const files = readdirSync(INJECT_DIR).sort();
  return files.filter((f) => f.endsWith('.injected')).map((golden) => {
    const [input, settings] = CASES[golden] ?? [golden.replace(/\.injected$/, ''), {}];
    return { golden, input, settings };
  });
}

function configFor(s: Settings): InjectionConfig {
  const base = defaultInjectionConfig();
  // Istio's test injects with its default injector policy and trust domain, as ours.
  return { ...base, ...s, readiness: { ...base.readiness, ...(s.readiness ?? {}) } };
}

function oursFor(c: Case): TemplateView[] {
  const cfg = configFor(c.settings);
  return readDocs(c.input).flatMap((doc) => templatesOf([injectObject(doc, cfg).object]));
}

describe('Istio injection goldens (conformance/istio-inject)', () => {
  for (const c of cases()) {
    test(`${c.golden} (from ${c.input})`, () => {
      const want = istioTemplatesOf(readDocs(c.golden));
      const input = templatesOf(readDocs(c.input));
      assert.equal(want.length, input.length, 'the golden has one pod template per input template');
      const unsupported = DECISION_ONLY[c.golden];
      if (unsupported) {
        const cfg = configFor(c.settings);
        for (const doc of readDocs(c.input)) {
          try {
            injectObject(doc, cfg);
          } catch (err) {
            assert.ok(err instanceof TrellisError && err.code === 'INJECT_INVALID', String(err));
          }
        }
        return;
      }
      const ours = oursFor(c);
      assert.equal(ours.length, want.length);
      ours.forEach((o, i) => {
        const w = want[i]!;
        const wantInjected = injectedByIstio(w) && !injectedByIstio(input[i]!);
        const oursInjected = injectedByIstio(o) && !injectedByIstio(input[i]!);
        assert.equal(oursInjected, wantInjected, `${o.workload}: injected?`);
        if (!wantInjected) {
          assert.deepEqual(o, input[i], `${o.workload}: a template Istio leaves alone is unchanged`);
          return;
        }
        const diff = differences(o, w).filter((d) => !(INTENDED[c.golden] ?? []).some((i) => i.match.test(d)));
        assert.deepEqual(diff, [], `${o.workload}:\n  ${diff.join('\n  ')}`);
      });
    });
  }

  for (const bad of readdirSync(INJECT_DIR).filter((f) => f.includes('-bad-')).sort()) {
    test(`${bad} is refused, naming the annotation`, () => {
      const what = bad.replace(/^traffic-annotations-bad-/, '').replace(/\.yaml$/, '');
      const cfg = defaultInjectionConfig();
      assert.throws(() => readDocs(bad).forEach((d) => injectObject(d, cfg)), (err: unknown) => {
        assert.ok(err instanceof TrellisError, String(err));
        assert.equal(err.code, 'INJECT_INVALID');
        assert.match(err.message.toLowerCase(), new RegExp(what.replace('ipranges', 'ip'), 'i'));
        return true;
      });
    });
  }
});
