/**
 * security.istio.io RequestAuthentication, with istiod's rules beyond field
 * types (pkg/config/validation validateJwtRule, security.ParseJwksURI) and
 * Istio's wording where it has one.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { duration, nonEmpty, topLevel } from './common.js';
import { arr, bool, obj, req, str, type Issue, type ObjectSchema } from './schema.js';
import { oneSelectorCheck } from './authz-checks.js';
import { targetRef, workloadSelector } from './security.js';

type Obj = Record<string, unknown>;

/** istiod's ParseJwksURI: an absolute http or https URL. */
export function jwksUriProblem(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `jwksUri ${JSON.stringify(s)} is not a valid URL`;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `URI scheme "${u.protocol.slice(0, -1)}" is not supported`;
}

/** An inline JWKS must parse, as istiod checks it with jwk.Parse; each key is tried as node:crypto would use it. */
export function jwksProblem(s: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(s);
  } catch (err) {
    return `jwks parse error: ${(err as Error).message}`;
  }
  const keys = (doc as Obj | null)?.['keys'];
  if (!Array.isArray(keys)) return 'jwks parse error: no "keys" array';
  for (const [i, k] of keys.entries()) {
    // Symmetric keys are no public keys; they are used as they are.
    if ((k as Obj | null)?.['kty'] === 'oct') continue;
    try {
      createPublicKey({ key: k as JsonWebKey, format: 'jwk' });
    } catch (err) {
      return `jwks parse error: keys[${i}]: ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** Istio's ValidateStrictHTTPHeaderName. */
function headerNameProblem(s: string): string | undefined {
  return /^[-_A-Za-z0-9]+$/.test(s) ? undefined : `header name ${s} is not a valid header name`;
}

function claimToHeaderCheck(v: Obj): Issue[] {
  if (!v['claim'] || !v['header']) return [{ path: [], message: 'outputClaimToHeaders header and claim value must be non-empty string' }];
  return [];
}

const jwtRule = obj({
  issuer: req(str({ check: (s) => (s === '' ? 'issuer must be set' : undefined) })),
  audiences: arr(str({ check: (s) => (s === '' ? 'audience must be non-empty string' : undefined) })),
  jwksUri: str({ check: jwksUriProblem }),
  jwks: str({ check: jwksProblem }),
  fromHeaders: arr(obj({ name: req(str({ check: (s) => (s === '' ? 'location header name must be non-empty string' : undefined) })), prefix: str() })),
  fromParams: arr(str({ check: (s) => (s === '' ? 'location query must be non-empty string' : undefined) })),
  fromCookies: arr(str({ check: (s) => (s === '' ? 'cookie name must be non-empty string' : undefined) })),
  outputPayloadToHeader: str({ check: headerNameProblem }),
  outputClaimToHeaders: arr(obj({ header: str({ check: headerNameProblem }), claim: str({ check: nonEmpty }) }, claimToHeaderCheck)),
  forwardOriginalToken: bool(),
  spaceDelimitedClaims: arr(str({ check: nonEmpty })),
  timeout: duration(),
});

const requestAuthenticationSpec = obj(
  {
    selector: workloadSelector(),
    targetRef: targetRef(),
    targetRefs: arr(targetRef()),
    jwtRules: arr(jwtRule),
  },
  oneSelectorCheck,
);

export const requestAuthenticationSchema: ObjectSchema = topLevel({ spec: requestAuthenticationSpec });
