/**
 * istio.v1.auth.IstioCertificateService/CreateCertificate:
 *
 *   1. authenticate: `authorization: Bearer JWT` in the call's metadata,
 *      verified by the TokenVerifier → UNAUTHENTICATED when missing or refused;
 *   2. the CSR: at most MAX_CSR_BYTES, PKCS#10 signed by an accepted key →
 *      INVALID_ARGUMENT otherwise;
 *   3. authorise: the CSR's URI SAN must be the SPIFFE id the token proved →
 *      PERMISSION_DENIED otherwise (istiod instead ignores the CSR's SANs and
 *      writes the caller's; refusing tells a misconfigured workload why).
 *      A node proxy names another identity in the request's metadata
 *      (ImpersonatedIdentity): the node authorizer decides (impersonation/),
 *      PERMISSION_DENIED with its reason when refused, and the CSR must then
 *      ask for that identity;
 *   4. sign with the requested TTL (validity_duration; 0 = the default,
 *      above the maximum → INVALID_ARGUMENT, as istiod);
 *   5. answer as istiod does: the leaf, the intermediates, then every root of
 *      the trust bundle, one PEM certificate per element.
 *
 * Nothing a caller sends ends the server: every failure is the call's status.
 */
import { Metadata, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { errorMessage, TrellisError } from '../../errors.js';
import type { Logger } from '../../log.js';
import {
  IstioCertificateResponseSchema,
  type IstioCertificateRequest,
  type IstioCertificateResponse,
} from '../../gen/security/v1alpha1/ca_pb.js';
import type { CertificateAuthority } from '../authority.js';
import { DEFAULT_TOKEN_AUDIENCE, type TokenSubject, type TokenVerifier } from '../token.js';
import type { WorkloadIdentity } from '../spiffe.js';
import { authorizeImpersonation, IMPERSONATED_IDENTITY, type PodDirectory } from '../impersonation/node-authorizer.js';
import type { CaMetrics } from './ca-metrics.js';
import { CappedLog } from './log-cap.js';

/** A CSR is a few hundred bytes (EC) to ~1.5 KiB (RSA 4096); 64 KiB leaves room and refuses floods. */
export const MAX_CSR_BYTES = 64 * 1024;

/** A SPIFFE id is a trust domain and two Kubernetes names: well under 1 KiB. */
const MAX_IMPERSONATED_BYTES = 1024;

export interface CreateCertificateDeps {
  ca: CertificateAuthority;
  tokens: TokenVerifier;
  /** The audience tokens must carry (istio-ca, as istiod's default). */
  audience?: string;
  log: Logger;
  metrics: CaMetrics;
  /** Service accounts allowed to ask for other identities (node proxies); none: every impersonation is refused. */
  trustedNodeAccounts?: readonly WorkloadIdentity[];
  /** The pods as the CA sees them now (read per impersonating request); none: every impersonation is refused. */
  pods?: () => PodDirectory;
}

const NO_PODS: PodDirectory = { pod: () => undefined, hasServiceAccountOn: () => false };

type Call = ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>;
type Reply = sendUnaryData<IstioCertificateResponse>;

export function createCertificateHandler(deps: CreateCertificateDeps): (call: Call, reply: Reply) => void {
  const refusals = new CappedLog(deps.log);
  const audience = deps.audience ?? DEFAULT_TOKEN_AUDIENCE;
  const refuse = (call: Call, reply: Reply, code: status, message: string, id?: WorkloadIdentity) => {
    refusals.warn('certificate request refused', { peer: call.getPeer(), code: status[code], reason: message, ...(id ? { identity: `${id.namespace}/${id.serviceAccount}` } : {}) });
    reply({ code, details: message });
  };

  return (call, reply) => {
    deps.metrics.csr.inc();
    const token = bearerToken(call.metadata);
    if (!token) {
      deps.metrics.authnError.inc();
      return refuse(call, reply, status.UNAUTHENTICATED, 'authentication required: send the workload token as "authorization: Bearer TOKEN"');
    }
    // Through a promise even if a verifier throws synchronously: a caller's bad token must never escape as an exception.
    Promise.resolve().then(() => deps.tokens.verify(token, audience)).then(
      (subject) => authorise(call, reply, subject),
      (err: unknown) => {
        deps.metrics.authnError.inc();
        refuse(call, reply, status.UNAUTHENTICATED, `token refused: ${errorMessage(err)}`);
      },
    ).catch((err: unknown) => {
      // A bug past this point must cost one call, not the process (an unhandled rejection would end it).
      deps.log.error('CreateCertificate failed', { peer: call.getPeer(), error: errorMessage(err) });
      reply({ code: status.INTERNAL, details: 'internal error' });
    });
  };

  function authorise(call: Call, reply: Reply, subject: TokenSubject): void {
    const caller: WorkloadIdentity = { namespace: subject.namespace, serviceAccount: subject.serviceAccount };
    const requested = call.request.metadata?.[IMPERSONATED_IDENTITY];
    // An empty value asks for nothing, as istiod reads it.
    if (requested === undefined || requested === '') return signFor(call, reply, caller);
    if (typeof requested !== 'string' || requested.length > MAX_IMPERSONATED_BYTES) {
      const what = typeof requested === 'string' ? `${requested.length} characters` : JSON.stringify(requested).slice(0, 100);
      return refuse(call, reply, status.INVALID_ARGUMENT, `metadata ${IMPERSONATED_IDENTITY} must be a SPIFFE id string of at most ${MAX_IMPERSONATED_BYTES} characters, not ${what}`, caller);
    }
    const decision = authorizeImpersonation({
      caller: subject, requested, trustDomain: deps.ca.trustDomain,
      trustedNodeAccounts: deps.trustedNodeAccounts ?? [], pods: deps.pods?.() ?? NO_PODS,
    });
    if (!decision.allowed) {
      // Counted as istiod counts it; the status says why (istiod answers an opaque UNAUTHENTICATED).
      deps.metrics.authnError.inc();
      return refuse(call, reply, status.PERMISSION_DENIED, `impersonation of ${requested} refused: ${decision.reason}`, caller);
    }
    deps.log.debug('node proxy impersonation allowed', { caller: `${caller.namespace}/${caller.serviceAccount}`, identity: requested, node: decision.node });
    signFor(call, reply, decision.identity);
  }

  function signFor(call: Call, reply: Reply, id: WorkloadIdentity): void {
    const req = call.request;
    const size = Buffer.byteLength(req.csr);
    if (size > MAX_CSR_BYTES) {
      deps.metrics.csrParsingError.inc();
      return refuse(call, reply, status.INVALID_ARGUMENT, `CSR of ${size} bytes refused: at most ${MAX_CSR_BYTES}`, id);
    }
    let chain: string[];
    try {
      chain = deps.ca.sign(req.csr, id, Number(req.validityDuration)).certChain;
    } catch (err) {
      const [code, counted] = classify(err);
      counted(deps.metrics, err);
      return refuse(call, reply, code, errorMessage(err), id);
    }
    deps.metrics.success.inc();
    reply(null, create(IstioCertificateResponseSchema, { certChain: [...chain, ...deps.ca.rootCertificates()] }));
  }
}

/** The token of an `authorization: Bearer …` header (the scheme is case-insensitive, RFC 6750). */
function bearerToken(md: Metadata): string | undefined {
  const v = md.get('authorization')[0];
  const m = typeof v === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(v) : null;
  return m?.[1];
}

function classify(err: unknown): [status, (m: CaMetrics, e: unknown) => void] {
  const code = err instanceof TrellisError ? err.code : undefined;
  switch (code) {
    case 'CSR_INVALID':
    case 'DER_MALFORMED':
      return [status.INVALID_ARGUMENT, (m) => m.csrParsingError.inc()];
    case 'CA_IDENTITY':
      return [status.PERMISSION_DENIED, (m) => m.idError.inc()];
    case 'CA_TTL':
      return [status.INVALID_ARGUMENT, (m) => m.signError.inc({ error: 'TTL_ERROR' })];
    default:
      return [status.INTERNAL, (m) => m.signError.inc({ error: 'CERT_GEN_ERROR' })];
  }
}
