/**
 * The workload identity a service-account token claims (its `sub`,
 * system:serviceaccount:NS:SA), read without verifying it: the proxy only
 * needs it to write its CSR's SPIFFE id; the CA verifies the token and refuses
 * a CSR for anything else.
 */
import { TrellisError } from '../../errors.js';
import { checkIdentity, type WorkloadIdentity } from '../../ca/spiffe.js';

export function tokenIdentity(jwt: string): WorkloadIdentity {
  const parts = jwt.trim().split('.');
  if (parts.length !== 3) throw new TrellisError('TOKEN_MALFORMED', 'the workload token is not a JWT (three dot-separated parts)');
  let claims: { sub?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { sub?: unknown };
  } catch (err) {
    throw new TrellisError('TOKEN_MALFORMED', 'the workload token\'s claims are not JSON', { cause: err });
  }
  const m = typeof claims.sub === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub) : null;
  if (!m) throw new TrellisError('TOKEN_CLAIMS', 'the workload token\'s subject is not system:serviceaccount:NAMESPACE:NAME');
  return checkIdentity({ namespace: m[1]!, serviceAccount: m[2]! });
}
