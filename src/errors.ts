/**
 * One error type for the whole project: a stable `code` that callers and tests
 * match on, a human message, and the underlying `cause` kept intact.
 */
export type TrellisErrorCode =
  | 'CONFIG_PARSE'
  | 'CONFIG_INVALID'
  | 'CONFIG_CONFLICT'
  | 'CONFIG_SOURCE'
  | 'XDS_PROTOCOL'
  | 'XDS_UNKNOWN_TYPE'
  | 'XDS_INVALID_NODE'
  | 'TRANSLATE'
  | 'CLI_USAGE'
  | 'IO'
  // Identity (src/ca/): bytes that are not DER, a CSR the CA will not sign,
  // a CA directory it will not use, and the ways a workload token fails.
  | 'DER_MALFORMED'
  | 'CSR_INVALID'
  | 'CA_DIR'
  | 'CA_TTL'
  | 'CA_IDENTITY'
  | 'CA_SIGN'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_ALG'
  | 'TOKEN_SIGNATURE'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_AUDIENCE'
  | 'TOKEN_CLAIMS'
  // The proxy's certificate agent: the CA's answer failed its checks, or the call failed.
  | 'CA_RESPONSE'
  | 'CA_UNAVAILABLE'
  // The debugging CLI: no mesh to talk to, a pod it does not know, a peer that did not answer, a state file it cannot read.
  | 'MESH_NOT_FOUND'
  | 'POD_NOT_FOUND'
  | 'ADMIN_UNKNOWN'
  | 'UNREACHABLE'
  | 'STATE_FILE'
  // `trellis why`: no access-log line carries the request id.
  | 'REQUEST_NOT_FOUND'
  // Injection (src/inject/): a bad injection config, a pod whose annotations Istio would refuse,
  // an AdmissionReview that is not one, kube-inject input that is not YAML.
  | 'INJECT_CONFIG'
  | 'INJECT_INVALID'
  | 'INJECT_REVIEW'
  | 'INJECT_INPUT'
  // Kubernetes: no usable kubeconfig or in-cluster config, an API call that failed (the HTTP status and
  // Status reason ride on KubeApiError), a CA Secret that cannot be used, TokenReview unreachable.
  | 'KUBE_CONFIG'
  | 'KUBE_API'
  | 'KUBE_CA_SECRET'
  | 'TOKEN_REVIEW_UNAVAILABLE'
  | 'TOKEN_REJECTED'
  // The proxy's upstream clients (src/proxy/upstream/errors.ts): the connection could not be made (refused,
  // unreachable, TLS handshake or its secrets; the cause says which) or not in time, it failed after it was
  // made (closed, reset, a malformed response), the request was aborted (timeout, client gone), or the
  // endpoint's pools were closed (the endpoint left its cluster). Retries and response flags read these.
  | 'UPSTREAM_CONNECT_FAILED'
  | 'UPSTREAM_CONNECT_TIMEOUT'
  | 'UPSTREAM_RESET'
  | 'UPSTREAM_ABORTED'
  | 'UPSTREAM_CLOSED'
  // A STRICT_DNS / LOGICAL_DNS cluster's name did not resolve (the DNS error, ENOTFOUND, ETIMEOUT, ..., is the cause).
  | 'DNS_RESOLUTION_FAILED'
  // The agent's DNS proxy (src/proxy/agent/dns/): a message that is not DNS (answered FORMERR, never thrown
  // further), no upstream resolver answered a forwarded query (SERVFAIL to the app; the socket error is the cause).
  | 'DNS_MALFORMED'
  | 'DNS_UPSTREAM_FAILED'
  // The control plane's fetch of a RequestAuthentication jwksUri (src/controlplane/jwks/).
  | 'JWKS_FETCH_FAILED'
  // A tap request the proxy's admin API refuses (400): an unknown parameter, a bad path prefix, method or max_rps.
  | 'TAP_REQUEST'
  // HBONE (src/ztunnel/hbone/): the peer's SPIFFE identity is not the expected one, the server answered
  // the CONNECT with something other than 200 (the status rides in the message), the tunnel could not be opened.
  | 'HBONE_IDENTITY'
  | 'HBONE_REFUSED'
  | 'HBONE_CONNECT_FAILED'
  // The native addon refused a call (src/native/): the errno Error, with its code (EPERM, EINVAL, ...), is the cause.
  | 'NATIVE'
  // ZDS (src/ztunnel/zds/), the node agent <-> node proxy protocol: the peer sent something that is not ZDS
  // (or too much of it), the node proxy answered a request with an error ack, the peer is not there or went away.
  | 'ZDS_PROTOCOL'
  | 'ZDS_REJECTED'
  | 'ZDS_UNAVAILABLE';

export class TrellisError extends Error {
  readonly code: TrellisErrorCode;

  constructor(code: TrellisErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrellisError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The message followed by each cause's message that adds something: "xDS server cannot listen on …: listen EADDRINUSE …". */
export function describeError(err: unknown): string {
  let out = errorMessage(err);
  let cause = err instanceof Error ? err.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    const m = errorMessage(cause);
    if (m && !out.includes(m)) out += `: ${m}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return out;
}
