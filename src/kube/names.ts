/**
 * Names shared by what `trellis install` writes and what the control plane
 * looks for at run time, so the two cannot drift apart. Istio's names where
 * Istio tooling and proxies expect them (the Service `istiod`, the Secrets).
 */

/** The control plane's Service (and Deployment): proxies dial istiod.NAMESPACE.svc:15012, as Istio's do. */
export const CONTROL_PLANE_SERVICE = 'istiod';
/** Its service account. */
export const CONTROL_PLANE_SERVICE_ACCOUNT = 'istiod';
/** The MutatingWebhookConfiguration whose caBundle the leader keeps set. */
export const DEFAULT_WEBHOOK_CONFIG = 'trellis-sidecar-injector';
/** The Lease the replicas compete for. */
export const LEADER_LEASE = 'trellis-controlplane-leader';
/** Istio's plugged-in CA Secret, and the one istiod creates with a self-signed root. */
export const PLUGGED_IN_SECRET = 'cacerts';
export const SELF_SIGNED_SECRET = 'istio-ca-secret';
/** The injection webhook's port and path on the control plane. */
export const WEBHOOK_PORT = 15017;
export const WEBHOOK_PATH = '/inject';
