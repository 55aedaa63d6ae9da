/**
 * The CA's authenticator on Kubernetes: a workload's projected
 * service-account token is sent to the API server's TokenReview API, which
 * checks signature, expiry, audience and that the pod and service account
 * still exist (a token of a deleted pod is refused, which no local check can
 * know). The identity is the review's user name,
 * system:serviceaccount:NS:SA — never the token's own claims, which
 * Trellis does not verify here.
 *
 * Audiences as istiod: the review asks for the CA's audience (istio-ca by
 * default); a token issued for another audience is refused by the API
 * server. If the answer lists audiences, one must be the one asked for
 * (an API server that ignored the request's audiences would otherwise
 * authenticate a token meant for something else).
 *
 * A bound token's pod and node come back as the user's extra fields
 * (authentication.kubernetes.io/pod-name, pod-uid, node-name, node-uid), which
 * the CA's node authorizer uses to find a node proxy's node, as istiod does.
 */
import { TrellisError, errorMessage } from '../errors.js';
import { checkBound, MAX_TOKEN_BYTES, type BoundObject, type TokenSubject, type TokenVerifier } from '../ca/token.js';
import { parseServiceAccountSubject, type WorkloadIdentity } from '../ca/spiffe.js';
import type { KubeClient } from './kube-client.js';

const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; extra?: Record<string, unknown> };
  audiences?: string[];
  error?: string;
}

export class TokenReviewVerifier implements TokenVerifier {
  readonly #client: KubeClient;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** Throws TOKEN_MALFORMED, TOKEN_REJECTED, TOKEN_AUDIENCE, TOKEN_CLAIMS, or TOKEN_REVIEW_UNAVAILABLE when the API server did not answer. */
  async verify(token: string, audience: string): Promise<TokenSubject> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_BYTES) {
      throw new TrellisError('TOKEN_MALFORMED', `token is not a string of 1 to ${MAX_TOKEN_BYTES} bytes`);
    }
    let review: { status?: TokenReviewStatus };
    try {
      review = await this.#client.post(TOKEN_REVIEWS, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } });
    } catch (err) {
      throw new TrellisError('TOKEN_REVIEW_UNAVAILABLE', `TokenReview failed: ${errorMessage(err)}`, { cause: err });
    }
    const st = review.status ?? {};
    if (st.authenticated !== true) throw new TrellisError('TOKEN_REJECTED', `the API server refused the token${st.error ? `: ${st.error}` : ''}`);
    if (st.audiences && st.audiences.length > 0 && !st.audiences.includes(audience)) {
      throw new TrellisError('TOKEN_AUDIENCE', `the token was authenticated for ${JSON.stringify(st.audiences)}, not ${audience}`);
    }
    let id: WorkloadIdentity;
    try {
      id = parseServiceAccountSubject(st.user?.username);
    } catch (err) {
      // A user's or a node's token is valid for the API server but names no workload.
      throw new TrellisError('TOKEN_CLAIMS', `the token belongs to ${JSON.stringify(st.user?.username ?? null)}, not to a service account`, { cause: err });
    }
    const pod = boundObject(st.user?.extra, 'pod');
    const node = boundObject(st.user?.extra, 'node');
    return { ...id, ...(pod ? { pod } : {}), ...(node ? { node } : {}) };
  }
}

/** The pod or node of a bound token, from the review's extra fields (each a list of one string). */
function boundObject(extra: Record<string, unknown> | undefined, what: 'pod' | 'node'): BoundObject | undefined {
  const one = (key: string): string | undefined => {
    const v = extra?.[`authentication.kubernetes.io/${what}-${key}`];
    return Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' ? v[0] : undefined;
  };
  const name = one('name');
  if (name === undefined) return undefined;
  const uid = one('uid');
  return checkBound({ name, ...(uid !== undefined ? { uid } : {}) }, what);
}
