/** Small builders of Kubernetes and Istio objects for tests against the fake API server. */
import type { StoredObject } from './fake-kube-apiserver/store.js';

export const namespace = (name: string, labels: Record<string, string> = {}): StoredObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

export const service = (ns: string, name: string, port: number, selector: Record<string, string> = { app: name }): StoredObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { ports: [{ name: 'http', port, targetPort: port, protocol: 'TCP' }], selector, clusterIP: '10.96.0.10', type: 'ClusterIP' },
});

export const pod = (ns: string, name: string, labels: Record<string, string>, ip: string, serviceAccount = 'default'): StoredObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
});

export const virtualService = (ns: string, name: string, host: string, spec: Record<string, unknown> = {}): StoredObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: ns },
  spec: { hosts: [host], http: [{ route: [{ destination: { host } }] }], ...spec },
});
