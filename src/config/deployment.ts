/**
 * apps/v1 Deployment and the parts of a pod spec that `trellis up` runs
 * (commands, environment, probes, users). The control plane keeps
 * Deployments in its state but builds nothing from them: endpoints come
 * from the pods a runtime made of them, as in a cluster.
 */
import type { KObject, ObjectMeta, PodSpec } from './objects.js';

export interface EnvVarSource {
  fieldRef?: { fieldPath: string; apiVersion?: string };
  resourceFieldRef?: { resource: string; containerName?: string };
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
  secretKeyRef?: { name: string; key: string; optional?: boolean };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

export interface Probe {
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command?: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

/** A container as `trellis up` reads it (the schema accepts the rest of Kubernetes' fields). */
export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
}

/** A pod spec with the fields `trellis up` runs. */
export interface RunnablePodSpec extends Omit<PodSpec, 'containers'> {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  hostNetwork?: boolean;
  serviceAccount?: string;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  enableServiceLinks?: boolean;
}

export interface PodTemplateSpec {
  metadata?: Partial<ObjectMeta>;
  spec: RunnablePodSpec;
}

export interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels?: Record<string, string> };
  template: PodTemplateSpec;
}

export type Deployment = KObject<'Deployment', DeploymentSpec>;
