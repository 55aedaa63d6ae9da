/**
 * Istio's probe rewrite (pkg/kube/inject/app_probe.go). With mTLS STRICT the
 * kubelet's plaintext probes would be refused by the sidecar, so each app
 * container's HTTP, TCP and gRPC probes (and HTTP/TCP lifecycle hooks) become
 * HTTP GETs to the proxy's agent port, /app-health/CONTAINER/livez|readyz|startupz
 * (/app-lifecycle/CONTAINER/prestopz|poststartz); the originals, named ports
 * resolved to numbers, travel to the proxy in ISTIO_KUBE_APP_PROBERS, and
 * the proxy runs them against the app on the kubelet's behalf.
 */
import type { AppProber } from '../proxy/agent/app-probers.js';
import type { Container, Handler, HttpGetAction, PodSpec, Probe } from './k8s-types.js';

/** A probe as the pod wrote it: its port may still be a name. */
interface DraftProber {
  httpGet?: HttpGetAction;
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
  timeoutSeconds?: number;
}

/** The proxy's paths for a container's probes and hooks (Istio's FormatProberURL). */
export function proberPaths(container: string): Record<'readyz' | 'livez' | 'startupz' | 'prestopz' | 'poststartz', string> {
  return {
    readyz: `/app-health/${container}/readyz`,
    livez: `/app-health/${container}/livez`,
    startupz: `/app-health/${container}/startupz`,
    prestopz: `/app-lifecycle/${container}/prestopz`,
    poststartz: `/app-lifecycle/${container}/poststartz`,
  };
}

function toProber(h: Handler | undefined, withTimeout: boolean): DraftProber | undefined {
  if (!h) return undefined;
  const t = withTimeout && typeof (h as Probe).timeoutSeconds === 'number' && (h as Probe).timeoutSeconds! > 0 ? { timeoutSeconds: (h as Probe).timeoutSeconds } : {};
  if (h.httpGet) return { httpGet: { ...h.httpGet }, ...t };
  if (h.tcpSocket) return { tcpSocket: { ...h.tcpSocket }, ...t };
  if (h.grpc && withTimeout) return { grpc: { ...h.grpc }, ...t };
  return undefined;
}

/** Named ports resolved from the container's ports; a probe on an unknown name, or already on the agent port, is dropped. */
function resolvePorts(p: DraftProber | undefined, ports: ReadonlyMap<string, number>, agentPort: number): AppProber | undefined {
  if (!p || p.grpc) return p as AppProber | undefined;
  const action = p.httpGet ?? p.tcpSocket!;
  if (typeof action.port === 'string' && !/^\d+$/.test(action.port)) {
    const n = ports.get(action.port);
    if (n === undefined) return undefined;
    action.port = n;
  } else if (Number(action.port) === agentPort) {
    return undefined;
  } else {
    action.port = Number(action.port);
  }
  return p as AppProber;
}

/** ISTIO_KUBE_APP_PROBERS: path → original probe, for every app container; undefined when there is none. */
export function appProbersJson(spec: PodSpec, agentPort: number): string | undefined {
  const out: Record<string, AppProber> = {};
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const ports = new Map((c.ports ?? []).filter((p) => p.name).map((p) => [p.name!, p.containerPort] as const));
    const paths = proberPaths(c.name);
    const add = (path: string, h: Handler | undefined, probe: boolean) => {
      const p = resolvePorts(toProber(h, probe), ports, agentPort);
      if (p) out[path] = p;
    };
    add(paths.readyz, c.readinessProbe, true);
    add(paths.livez, c.livenessProbe, true);
    add(paths.startupz, c.startupProbe, true);
    add(paths.prestopz, c.lifecycle?.preStop, false);
    add(paths.poststartz, c.lifecycle?.postStart, false);
  }
  const keys = Object.keys(out).sort();
  if (keys.length === 0) return undefined;
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, out[k]])));
}

/** The handler pointed at the agent: an HTTP GET of `path` on `agentPort`; HTTPS becomes HTTP (the agent speaks TLS to the app itself). */
function rewriteHandler<T extends Handler>(h: T | undefined, path: string, agentPort: number, probe: boolean): T | undefined {
  if (!h || !(h.httpGet || h.tcpSocket || (probe && h.grpc))) return h;
  const { httpGet, tcpSocket: _t, grpc: _g, ...rest } = h;
  const get: HttpGetAction = { ...(httpGet ?? {}), path, port: agentPort };
  if (get.scheme === 'HTTPS') get.scheme = 'HTTP';
  return { ...rest, httpGet: get } as T;
}

/** The container with its probes and HTTP/TCP lifecycle hooks going through the agent. */
export function rewriteContainerProbes(c: Container, agentPort: number): Container {
  const paths = proberPaths(c.name);
  const out: Container = { ...c };
  for (const [field, path] of [['readinessProbe', paths.readyz], ['livenessProbe', paths.livez], ['startupProbe', paths.startupz]] as const) {
    if (c[field]) out[field] = rewriteHandler(c[field], path, agentPort, true);
  }
  if (c.lifecycle) {
    out.lifecycle = { ...c.lifecycle };
    if (c.lifecycle.preStop) out.lifecycle.preStop = rewriteHandler(c.lifecycle.preStop, paths.prestopz, agentPort, false);
    if (c.lifecycle.postStart) out.lifecycle.postStart = rewriteHandler(c.lifecycle.postStart, paths.poststartz, agentPort, false);
  }
  return out;
}
