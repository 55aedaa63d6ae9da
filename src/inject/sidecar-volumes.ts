/**
 * What the sidecar mounts: the workload token (a projected service-account
 * token with the CA's audience, istio-ca) and the mesh root
 * (the istio-ca-root-cert ConfigMap), at the paths `trellis proxy` reads by
 * default (src/cli/proxy-identity.ts) — so it can get its certificate with no
 * flags. Plus the user's volumes from sidecar.istio.io/userVolume(Mount).
 */
import { TrellisError } from '../errors.js';
import { isObject, type Container, type Volume } from './k8s-types.js';
import { ANNOTATION } from './names.js';

export const TOKEN_VOLUME = 'istio-token';
export const ROOT_CERT_VOLUME = 'istiod-ca-cert';
/** The audience istiod's CA (and Trellis's) expects on workload tokens. */
export const TOKEN_AUDIENCE = 'istio-ca';

export function sidecarVolumes(annotations: Readonly<Record<string, string>>): Volume[] {
  return [
    {
      name: TOKEN_VOLUME,
      projected: { sources: [{ serviceAccountToken: { path: 'istio-token', expirationSeconds: 43200, audience: TOKEN_AUDIENCE } }] },
    },
    { name: ROOT_CERT_VOLUME, configMap: { name: 'istio-ca-root-cert' } },
    ...userEntries(annotations, ANNOTATION.userVolume).map(([name, v]) => ({ ...v, name })),
  ];
}

export function sidecarMounts(annotations: Readonly<Record<string, string>>): NonNullable<Container['volumeMounts']> {
  return [
    { name: ROOT_CERT_VOLUME, mountPath: '/var/run/secrets/istio' },
    { name: TOKEN_VOLUME, mountPath: '/var/run/secrets/tokens' },
    ...userEntries(annotations, ANNOTATION.userVolumeMount).map(([name, m]) => ({ ...m, name, mountPath: String(m.mountPath ?? '') })),
  ];
}

/** A JSON object of name → spec in an annotation; anything else is refused with the annotation's name. */
function userEntries(annotations: Readonly<Record<string, string>>, key: string): [string, Record<string, unknown>][] {
  const raw = annotations[key];
  if (raw === undefined) return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new TrellisError('INJECT_INVALID', `annotation ${key}: not JSON`);
  }
  if (!isObject(v) || !Object.values(v).every(isObject)) throw new TrellisError('INJECT_INVALID', `annotation ${key}: expected a JSON object of name → ${key.endsWith('Mount') ? 'volumeMount' : 'volume'}`);
  return Object.entries(v as Record<string, Record<string, unknown>>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
