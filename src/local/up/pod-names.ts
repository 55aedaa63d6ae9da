/**
 * Pod names as a cluster makes them: a Deployment's ReplicaSet is
 * NAME-<pod-template-hash> and its pods NAME-<hash>-<5 random characters>,
 * both from Kubernetes' alphabet without vowels (no accidental words) and
 * without characters that look alike.
 */
import { randomInt } from 'node:crypto';
import { fnv1a32 } from '../../config/cluster-ip.js';

/** k8s.io/apimachinery/pkg/util/rand's alphabet. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character of `s` mapped into the alphabet. */
function safeEncode(s: string): string {
  return [...s].map((c) => ALPHABET[c.charCodeAt(0) % ALPHABET.length]).join('');
}

/**
 * The pod-template-hash label: FNV-32a of the template, as the Deployment
 * controller computes it (over its own serialisation, so the values differ
 * from a cluster's), printed in decimal, padded to 10 digits (Kubernetes
 * does not pad; its hashes are usually 9–10 characters) and safe-encoded.
 * Equal templates give equal hashes, which is what keeps pods across restarts
 * of `trellis up` named alike and tells a changed template from an unchanged one.
 */
export function templateHash(template: unknown): string {
  return safeEncode(String(fnv1a32(JSON.stringify(template))).padStart(10, '0'));
}

/** utilrand.String(5). */
export function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** NAME-<hash>-<suffix>; Kubernetes shortens NAME so the whole stays a DNS label (63). */
export function deploymentPodName(deployment: string, hash: string, suffix: string): string {
  const base = `${deployment}-${hash}`;
  return `${base.slice(0, 63 - 6)}-${suffix}`;
}
