/**
 * The MutatingWebhookConfiguration, in the shape of Istio's sidecar
 * injector so the labels users already write decide the same way:
 *   - `namespace.sidecar-injector.trellis.io`: namespaces labelled
 *     istio-injection=enabled, pods not labelled sidecar.istio.io/inject=false;
 *   - `object.sidecar-injector.trellis.io`: pods labelled
 *     sidecar.istio.io/inject=true in namespaces without istio-injection.
 * kube-system, kube-public and the control plane's own namespace never match
 * (the API server would otherwise call the webhook for the pods that serve
 * it). The `sidecar.istio.io/inject` annotation is not a label, so selectors
 * cannot see it: the webhook itself reads it. The caBundle is the mesh
 * root's when known at install time; otherwise the leader sets it at run
 * time (webhook-ca-bundle.ts).
 */
import { CONTROL_PLANE_SERVICE, DEFAULT_WEBHOOK_CONFIG, WEBHOOK_PATH, WEBHOOK_PORT } from '../kube/names.js';
import { partOf, type Manifest } from './manifest.js';

export type FailurePolicy = 'Fail' | 'Ignore';

const NEVER = ['kube-system', 'kube-public'];

export function injectionWebhook(namespace: string, failurePolicy: FailurePolicy, caBundlePem: string | undefined): Manifest {
  const excluded = { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...NEVER, namespace].filter((v, i, a) => a.indexOf(v) === i) };
  const clientConfig = {
    service: { name: CONTROL_PLANE_SERVICE, namespace, path: WEBHOOK_PATH, port: WEBHOOK_PORT },
    ...(caBundlePem ? { caBundle: Buffer.from(caBundlePem).toString('base64') } : {}),
  };
  const common = {
    clientConfig,
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
    failurePolicy,
    matchPolicy: 'Equivalent',
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    reinvocationPolicy: 'Never',
    timeoutSeconds: 10,
  };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: DEFAULT_WEBHOOK_CONFIG, labels: partOf },
    webhooks: [
      {
        name: 'namespace.sidecar-injector.trellis.io',
        ...common,
        namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }, excluded] },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
      },
      {
        name: 'object.sidecar-injector.trellis.io',
        ...common,
        namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' }, { key: 'istio.io/rev', operator: 'DoesNotExist' }, excluded] },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] }] },
      },
    ],
  };
}
