/**
 * What every Node app of the demo shares: where to listen, how to reach
 * another service, which headers to pass on, one-line logs, shutdown.
 *
 * The apps know nothing of the mesh. They read what Kubernetes (or
 * `trellis up`, which mimics it) puts in their environment and speak plain
 * HTTP and gRPC; the sidecar next to them does the rest.
 */

/** The address to listen on: the pod's IP (fieldRef status.podIP), else every address. */
export function listenHost() {
  return process.env.POD_IP || '0.0.0.0';
}

/** The port to listen on: PORT (the containerPort, declared in the YAML), 9080 as in Bookinfo. 0 picks a free one (tests). */
export function listenPort() {
  return intFromEnv('PORT', 9080, 0, 65535);
}

/**
 * host:port of a Service, as kubelet tells a pod: {NAME}_SERVICE_HOST and
 * {NAME}_SERVICE_PORT for every Service of the pod's namespace; without
 * them (another namespace, or a cluster with enableServiceLinks: false) the
 * name itself, which cluster DNS resolves.
 */
export function serviceAddress(name, defaultPort) {
  const key = name.toUpperCase().replaceAll('-', '_');
  const host = process.env[`${key}_SERVICE_HOST`] || name;
  const port = process.env[`${key}_SERVICE_PORT`] || String(defaultPort);
  // An IPv6 cluster IP is a bare address in the variable; URLs and gRPC targets need it bracketed.
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Headers an app must copy from the request it serves to the requests it
 * makes. The sidecars can only join the hops of one request into one trace,
 * and route on a user (the VirtualService's `end-user` match) further down,
 * if the app carries these across: a proxy cannot see which outgoing call
 * belongs to which incoming one.
 */
export const PROPAGATED_HEADERS = Object.freeze([
  'end-user',
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
]);

/** The propagated headers present in `incoming` (node:http's lower-cased headers or gRPC metadata as an object). */
export function propagatedHeaders(incoming) {
  const out = {};
  for (const name of PROPAGATED_HEADERS) {
    const v = incoming[name];
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  return out;
}

/** A user name we accept from a header or cookie: plain, short, safe to put in a header and a page. */
export function validUser(name) {
  return typeof name === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : undefined;
}

/** One line on stdout, prefixed with the app's name: what `trellis logs` and kubectl logs show. */
export function logger(app) {
  return (line) => process.stdout.write(`${new Date().toISOString()} ${app} ${line}\n`);
}

/** An integer from the environment within [min, max]; anything else stops the app with a message naming the variable. */
export function intFromEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}\n`);
    process.exit(2);
  }
  return n;
}

/**
 * Runs `close` on SIGTERM or SIGINT, then exits 0. Kubernetes sends SIGTERM
 * and waits terminationGracePeriodSeconds (30 s) before SIGKILL; we give the
 * close 5 s and then exit anyway, so a stuck connection never holds a pod.
 */
export function onShutdown(close) {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 5000).unref();
    Promise.resolve()
      .then(close)
      .catch((err) => process.stderr.write(`error while stopping: ${err?.message ?? err}\n`))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
