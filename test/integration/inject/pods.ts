/** Pods as the API server hands them to the webhook, and the checks an injected pod must pass. */
import assert from 'node:assert/strict';
import { parseIptablesArgs } from '../../../src/iptables/flags.js';
import { DEFAULT_ROOT_CERT, DEFAULT_TOKEN_FILE } from '../../../src/cli/proxy-identity.js';
import type { Pod } from './webhook-client.js';

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  startupProbe?: Record<string, unknown>;
  restartPolicy?: string;
  securityContext?: Record<string, unknown> & { capabilities?: { add?: string[]; drop?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodView {
  metadata: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec: { containers: Container[]; initContainers?: Container[]; volumes?: { name: string; [k: string]: unknown }[]; [k: string]: unknown };
}

/** A web app pod: one container, a named and a numeric port, an HTTP readiness probe on the named port and a TCP liveness probe. */
export function webPod(name: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Record<string, unknown> } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web', ...(extra.labels ?? {}) }, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      serviceAccountName: 'web',
      containers: [{
        name: 'web',
        image: 'example/web:1',
        ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }],
        readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
        livenessProbe: { tcpSocket: { port: 9090 } },
      }],
      ...(extra.spec ?? {}),
    },
  };
}

export const view = (p: Pod) => p as unknown as PodView;

export function container(p: PodView, name: string): Container {
  const c = [...(p.spec.initContainers ?? []), ...p.spec.containers].find((x) => x.name === name);
  assert.ok(c, `container ${name} in ${JSON.stringify([...(p.spec.initContainers ?? []), ...p.spec.containers].map((x) => x.name))}`);
  return c;
}

/**
 * The injected pod's init container captures with `trellis iptables` flags
 * that parse (with the parser the binary uses) to the given settings,
 * with NET_ADMIN and NET_RAW and no other capability, as root without
 * privilege escalation.
 */
export function assertCapture(p: PodView, expect: { classic?: boolean; outboundInclude: string | string[]; outboundExclude?: string[]; inboundExclude: number[]; outboundPortsExclude?: number[] }): void {
  const init = container(p, 'trellis-init');
  const inits = p.spec.initContainers ?? [];
  if (expect.classic) assert.equal(inits.at(-1)?.name, 'trellis-init', 'classic layout: capture after the pod\'s own init containers');
  else assert.equal(inits[0]?.name, 'trellis-init', 'native layout: capture first, then the proxy, then the pod\'s init containers (in the mesh)');
  assert.equal(init.args?.[0], 'iptables');
  const parsed = parseIptablesArgs(init.args!.slice(1));
  assert.deepEqual(parsed.errors, []);
  const c = parsed.config;
  assert.equal(c.proxyPort, 15001);
  assert.equal(c.inboundCapturePort, 15006);
  assert.deepEqual(c.proxyUids, ['1337']);
  assert.deepEqual(c.proxyGids, ['1337']);
  assert.equal(c.inboundMode, 'REDIRECT');
  assert.deepEqual(c.outboundIpRangesInclude, expect.outboundInclude);
  assert.deepEqual(c.outboundIpRangesExclude, expect.outboundExclude ?? []);
  assert.deepEqual([...c.inboundPortsExclude].sort((a, b) => a - b), [...expect.inboundExclude].sort((a, b) => a - b));
  assert.deepEqual(c.outboundPortsExclude, expect.outboundPortsExclude ?? []);
  assert.deepEqual(init.securityContext?.capabilities, { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] });
  assert.equal(init.securityContext?.privileged, false);
  assert.equal(init.securityContext?.allowPrivilegeEscalation, false);
  assert.equal(init.securityContext?.runAsUser, 0);
}

/**
 * The sidecar: trellis-proxy as uid/gid 1337, native (an init container
 * with restartPolicy Always) unless `classic`, ready on 15021
 * /healthz/ready, with the environment and mounts it needs to fetch its
 * identity (token with the CA's audience, mesh root) and its config.
 */
export function assertSidecar(p: PodView, opts: { classic?: boolean; podName: string } = { podName: '' }): Container {
  const proxy = container(p, 'trellis-proxy');
  if (opts.classic) {
    assert.ok(p.spec.containers.some((c) => c.name === 'trellis-proxy'), 'classic layout: the proxy is a container');
    assert.equal(proxy.restartPolicy, undefined);
  } else {
    assert.equal(p.spec.initContainers?.[1]?.name, 'trellis-proxy', 'native layout: the proxy right after capture');
    assert.equal(proxy.restartPolicy, 'Always');
    assert.ok(!p.spec.containers.some((c) => c.name === 'trellis-proxy'));
  }
  assert.equal(proxy.args?.[0], 'proxy');
  assert.equal(proxy.securityContext?.runAsUser, 1337);
  assert.equal(proxy.securityContext?.runAsGroup, 1337);
  assert.equal(proxy.securityContext?.runAsNonRoot, true);
  assert.deepEqual(proxy.readinessProbe?.httpGet, { path: '/healthz/ready', port: 15021 });
  const env = new Map((proxy.env ?? []).map((e) => [e.name, e]));
  const field = (n: string) => env.get(n)?.valueFrom?.fieldRef?.fieldPath;
  assert.equal(field('POD_NAME'), 'metadata.name');
  assert.equal(field('POD_NAMESPACE'), 'metadata.namespace');
  assert.equal(field('INSTANCE_IP'), 'status.podIP');
  assert.equal(field('SERVICE_ACCOUNT'), 'spec.serviceAccountName');
  assert.equal(field('ISTIO_META_POD_NAME'), 'metadata.name');
  assert.equal(field('ISTIO_META_NAMESPACE'), 'metadata.namespace');
  assert.equal(env.get('ISTIO_META_CLUSTER_ID')?.value, 'Kubernetes');
  assert.equal(env.get('ISTIO_META_MESH_ID')?.value, 'cluster.local');
  const flag = (name: string) => proxy.args![proxy.args!.indexOf(name) + 1];
  assert.equal(flag('--xds-address'), 'istiod.istio-system.svc:15012', 'xDS and the CA at istiod\'s TLS port');
  assert.equal(flag('--health-port'), '15021');
  assert.equal(flag('--status-port'), '15020');
  // The mounts put the token and the root where `trellis proxy` reads them by default.
  const mounts = new Map((proxy.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
  const volumes = new Map((p.spec.volumes ?? []).map((v) => [v.name, v]));
  const token = volumes.get('istio-token') as { projected?: { sources: { serviceAccountToken?: { audience: string; path: string } }[] } } | undefined;
  const sat = token?.projected?.sources[0]?.serviceAccountToken;
  assert.equal(sat?.audience, 'istio-ca');
  assert.equal(`${mounts.get('istio-token')}/${sat?.path}`, DEFAULT_TOKEN_FILE);
  assert.deepEqual((volumes.get('istiod-ca-cert') as { configMap?: unknown } | undefined)?.configMap, { name: 'istio-ca-root-cert' });
  assert.equal(`${mounts.get('istiod-ca-cert')}/root-cert.pem`, DEFAULT_ROOT_CERT);
  const ann = p.metadata.annotations ?? {};
  assert.equal(ann['prometheus.io/scrape'], 'true');
  assert.equal(ann['prometheus.io/port'], '15020');
  assert.equal(ann['prometheus.io/path'], '/stats/prometheus');
  assert.ok(ann['sidecar.istio.io/status'], 'marked injected');
  assert.equal(p.metadata.labels?.['security.istio.io/tlsMode'], 'istio');
  return proxy;
}

/** The probes of an app container point at the agent, and ISTIO_KUBE_APP_PROBERS holds the originals with named ports resolved. */
export function assertProbesRewritten(p: PodView, app: string, originals: Record<string, unknown>): void {
  const c = container(p, app);
  const proxy = container(p, 'trellis-proxy');
  for (const [field, kind] of [['readinessProbe', 'readyz'], ['livenessProbe', 'livez'], ['startupProbe', 'startupz']] as const) {
    const key = `/app-health/${app}/${kind}`;
    if (originals[key] === undefined) continue;
    const get = (c[field] as { httpGet?: { path?: string; port?: number; scheme?: string } } | undefined)?.httpGet;
    assert.deepEqual([get?.path, get?.port], [key, 15020], `${app} ${field}`);
    // The agent speaks TLS to the app itself; the kubelet talks plain HTTP to the agent.
    assert.ok(get?.scheme === undefined || get.scheme === 'HTTP', `${app} ${field}: ${get?.scheme}`);
  }
  const probers = JSON.parse(proxy.env?.find((e) => e.name === 'ISTIO_KUBE_APP_PROBERS')?.value ?? '{}') as Record<string, unknown>;
  for (const [k, v] of Object.entries(originals)) assert.deepEqual(probers[k], v, k);
}
