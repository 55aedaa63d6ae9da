/**
 * Every environment variable Trellis reads, in one place.
 * TRELLIS_LOG: "info" (default), "debug", "warn", "error", or per component
 *   as "xds=debug,config=warn" (a bare level sets the default).
 * TRELLIS_NATIVE_DISABLE=1: behave as if the native addon could not load
 *   (how tests check that capture listeners are refused, not run wrongly).
 * POD_NAME: the control plane's name in /debug/syncz (istiod reads the same
 *   variable; proxy-status shows it as CONTROL PLANE); the host name when unset.
 * TRELLIS_STATE_FILE: where `trellis up` writes, and the debugging CLI looks for, the running mesh's
 *   state file (src/local/state-file.ts), instead of the default places.
 * NO_COLOR (any value): no colours in the debugging CLI's output, even on a terminal.
 * XDG_RUNTIME_DIR: the user's runtime directory; the state file of a mesh run
 *   by that user lives in $XDG_RUNTIME_DIR/trellis/.
 * Set by the sidecar injector for `trellis proxy` (src/inject/proxy-container.ts):
 * INSTANCE_IP: the pod's IP, where the agent sends the app's rewritten probes.
 * ISTIO_KUBE_APP_PROBERS: the app's original probes, JSON (src/proxy/agent/app-probers.ts).
 * ISTIO_PROMETHEUS_ANNOTATIONS: the app's metrics endpoints, JSON (src/proxy/agent/app-metrics-config.ts).
 * ISTIO_META_DNS_CAPTURE=true: `trellis iptables` captures DNS as with --redirect-dns (istio-iptables' default
 *   from the same variable); the proxy reads it as node metadata DNS_CAPTURE (its DNS proxy, src/proxy/agent/dns/).
 * KUBECONFIG: kubeconfig files (':'-separated, as kubectl reads them) for
 *   `controlplane --source kubernetes` without --kubeconfig.
 * KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT: set by the kubelet in
 *   every pod; with the mounted service-account token they mean "in cluster".
 * TRELLIS_UP_NODE_PROXY: the command `trellis up` runs as the node proxy instead of this CLI's `ztunnel`, as a
 *   JSON array of strings (its argv before the flags; src/local/up/ambient/node-proxy-argv.ts): another build,
 *   or a test's stand-in.
 * POD_NAMESPACE: the control plane's namespace on Kubernetes (the CA Secret,
 *   the leader Lease); the service account's namespace file when unset.
 */
export const env = {
  log: process.env.TRELLIS_LOG ?? 'info',
  nativeDisabled: process.env.TRELLIS_NATIVE_DISABLE === '1',
  podName: process.env.POD_NAME || undefined,
  stateFile: process.env.TRELLIS_STATE_FILE || undefined,
  runtimeDir: process.env.XDG_RUNTIME_DIR || undefined,
  noColor: process.env.NO_COLOR !== undefined,
  kubeconfig: process.env.KUBECONFIG || undefined,
  kubernetesServiceHost: process.env.KUBERNETES_SERVICE_HOST || undefined,
  podNamespace: process.env.POD_NAMESPACE || undefined,
  instanceIp: process.env.INSTANCE_IP || undefined,
  appProbers: process.env.ISTIO_KUBE_APP_PROBERS || undefined,
  prometheusAnnotations: process.env.ISTIO_PROMETHEUS_ANNOTATIONS || undefined,
  dnsCapture: process.env.ISTIO_META_DNS_CAPTURE === 'true',
  upNodeProxy: process.env.TRELLIS_UP_NODE_PROXY || undefined,
};
