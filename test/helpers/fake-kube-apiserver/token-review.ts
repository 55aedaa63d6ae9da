/**
 * TokenReview (authentication.k8s.io/v1), as kube-apiserver answers it:
 * the review is not stored, the answer is the request with `status` filled.
 * A token the double knows authenticates when the review asks for no
 * audiences (the API server's own are used then) or shares one with the
 * token; otherwise `authenticated: false` with the API server's error text.
 */
import { badRequest } from './status.js';

/** What a token stands for: the service account's user name and the audiences it was issued for. */
export interface KnownToken {
  username: string;
  uid: string;
  audiences: string[];
  /** A bound token's user extra fields (authentication.kubernetes.io/pod-name, pod-uid, node-name, ...). */
  extra?: Record<string, string[]>;
}

/** The API server's own audience (what a review without audiences is checked against). */
export const API_SERVER_AUDIENCES = ['https://kubernetes.default.svc.cluster.local'];

export function reviewToken(body: unknown, tokens: ReadonlyMap<string, KnownToken>): unknown {
  const spec = (body as { spec?: { token?: unknown; audiences?: unknown } } | undefined)?.spec;
  if (!spec || typeof spec.token !== 'string') throw badRequest('TokenReview: spec.token is required');
  const wanted = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? (spec.audiences as string[]) : API_SERVER_AUDIENCES;
  const known = tokens.get(spec.token);
  const base = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec };
  if (!known) return { ...base, status: { authenticated: false, user: {}, error: '[invalid bearer token, service account token has been invalidated]' } };
  const shared = known.audiences.filter((a) => wanted.includes(a));
  if (shared.length === 0) {
    return { ...base, status: { authenticated: false, user: {}, error: `[invalid bearer token, token audiences ${JSON.stringify(known.audiences)} is invalid for the target audiences ${JSON.stringify(wanted)}]` } };
  }
  const [, , namespace] = known.username.split(':');
  return {
    ...base,
    status: {
      authenticated: true,
      user: {
        username: known.username,
        uid: known.uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
        ...(known.extra ? { extra: known.extra } : {}),
      },
      audiences: shared,
    },
  };
}
