/**
 * A container's environment and command line as kubelet builds them: the
 * container's `env` in order (values may reference earlier variables and the
 * service variables as $(NAME)), `valueFrom.fieldRef` from the pod's facts,
 * then every service variable the container did not set itself; `command`
 * and `args` expanded with the result. What kubelet cannot resolve here
 * (ConfigMaps and Secrets are not kept, resources are not limited) is
 * reported, and the variable left unset.
 */
import type { ContainerSpec, EnvVar } from '../../config/deployment.js';

export interface PodFacts {
  name: string;
  namespace: string;
  uid: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  nodeName: string;
  serviceAccountName: string;
  podIp: string;
  hostIp: string;
}

export interface ContainerEnv {
  env: Record<string, string>;
  argv: string[];
  /** Variables that could not be resolved, with why. */
  problems: string[];
}

/** kubelet's $(VAR) expansion: $$ escapes, unknown references stay as written. */
export function expand(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && vars[name] !== undefined ? vars[name] : m;
  });
}

/** metadata.labels['app'] → ['labels', 'app']. */
function fieldValue(path: string, f: PodFacts): string | undefined {
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? f.labels : f.annotations)[keyed[2]!];
  switch (path) {
    case 'metadata.name': return f.name;
    case 'metadata.namespace': return f.namespace;
    case 'metadata.uid': return f.uid;
    case 'spec.nodeName': return f.nodeName;
    case 'spec.serviceAccountName': return f.serviceAccountName;
    case 'status.podIP':
    case 'status.podIPs': return f.podIp;
    case 'status.hostIP':
    case 'status.hostIPs': return f.hostIp;
    default: return undefined;
  }
}

function resolveOne(v: EnvVar, vars: Readonly<Record<string, string>>, facts: PodFacts): { value?: string; problem?: string } {
  if (v.valueFrom === undefined) return { value: expand(v.value ?? '', vars) };
  const from = v.valueFrom;
  if (from.fieldRef) {
    const value = fieldValue(from.fieldRef.fieldPath, facts);
    return value === undefined ? { problem: `${v.name}: fieldRef ${from.fieldRef.fieldPath} is not supported` } : { value };
  }
  const kind = from.configMapKeyRef ? 'configMapKeyRef' : from.secretKeyRef ? 'secretKeyRef' : from.resourceFieldRef ? 'resourceFieldRef' : 'valueFrom';
  return { problem: `${v.name}: ${kind} is not supported by trellis up (variable left unset)` };
}

export function containerEnv(c: ContainerSpec, facts: PodFacts, services: Readonly<Record<string, string>>): ContainerEnv {
  const own: Record<string, string> = {};
  const problems: string[] = [];
  for (const v of c.env ?? []) {
    const r = resolveOne(v, { ...services, ...own }, facts);
    if (r.problem) problems.push(r.problem);
    else own[v.name] = r.value!;
  }
  const env: Record<string, string> = { ...own };
  for (const [k, v] of Object.entries(services)) if (!(k in env)) env[k] = v;
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => expand(a, env));
  return { env, argv, problems };
}
