/**
 * The sidecar's (and init container's) resources, as Istio's template takes
 * them: if any of sidecar.istio.io/proxyCPU, proxyMemory, proxyCPULimit,
 * proxyMemoryLimit is set, exactly those (and no mesh defaults); otherwise
 * the mesh's defaults.
 */
import type { InjectionConfig } from './config.js';
import type { Container } from './k8s-types.js';
import { ANNOTATION } from './names.js';

export function proxyResources(annotations: Readonly<Record<string, string>>, cfg: InjectionConfig): NonNullable<Container['resources']> {
  const cpu = annotations[ANNOTATION.proxyCpu];
  const memory = annotations[ANNOTATION.proxyMemory];
  const cpuLimit = annotations[ANNOTATION.proxyCpuLimit];
  const memoryLimit = annotations[ANNOTATION.proxyMemoryLimit];
  if ([cpu, memory, cpuLimit, memoryLimit].every((v) => v === undefined)) {
    const out: NonNullable<Container['resources']> = {};
    if (cfg.resources.requests && Object.keys(cfg.resources.requests).length > 0) out.requests = { ...cfg.resources.requests };
    if (cfg.resources.limits && Object.keys(cfg.resources.limits).length > 0) out.limits = { ...cfg.resources.limits };
    return out;
  }
  const pick = (c: string | undefined, m: string | undefined) => ({ ...(c === undefined ? {} : { cpu: c }), ...(m === undefined ? {} : { memory: m }) });
  const out: NonNullable<Container['resources']> = {};
  if (cpu !== undefined || memory !== undefined) out.requests = pick(cpu, memory);
  if (cpuLimit !== undefined || memoryLimit !== undefined) out.limits = pick(cpuLimit, memoryLimit);
  return out;
}
