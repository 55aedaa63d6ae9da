/**
 * Istio's certificate service as the agent calls it:
 * /istio.v1.auth.IstioCertificateService/CreateCertificate over TLS (the CA
 * verified against root-cert.pem), the workload token as `authorization:
 * Bearer`, a CSR and a requested lifetime in; the chain out. On the proxy's
 * own gRPC client (xds-client/grpc-stream.ts): grpc-js stays out of the
 * proxy's start-up.
 */
import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { TrellisError } from '../../errors.js';
import { IstioCertificateRequestSchema, IstioCertificateResponseSchema, type IstioCertificateRequest, type IstioCertificateResponse } from '../../gen/security/v1alpha1/ca_pb.js';
import { GrpcChannel, GrpcStatusError, unaryCall, type BidiMethod } from '../xds-client/grpc-stream.js';

const CREATE_CERTIFICATE: BidiMethod<IstioCertificateRequest, IstioCertificateResponse> = {
  path: '/istio.v1.auth.IstioCertificateService/CreateCertificate',
  requestSerialize: (m) => Buffer.from(toBinary(IstioCertificateRequestSchema, m)),
  responseDeserialize: (b) => fromBinary(IstioCertificateResponseSchema, b),
};

export interface CaCallOptions {
  address: string;
  /** PEM roots that must have signed the CA's serving certificate. */
  trustedRoots: string;
  token: string;
  csrPem: string;
  /** Requested lifetime; 0 = the CA's default. */
  ttlSeconds: number;
  timeoutMs: number;
  /** The request's metadata (a node proxy's ImpersonatedIdentity). */
  metadata?: Record<string, string>;
}

/** One CreateCertificate call on a fresh TLS connection; resolves with cert_chain, or rejects with CA_UNAVAILABLE and the status. */
export async function createCertificate(o: CaCallOptions): Promise<string[]> {
  const channel = new GrpcChannel(o.address, { tls: () => ({ ca: o.trustedRoots, ALPNProtocols: ['h2'] }) });
  try {
    const res = await unaryCall(channel, CREATE_CERTIFICATE, create(IstioCertificateRequestSchema, { csr: o.csrPem, validityDuration: BigInt(o.ttlSeconds), ...(o.metadata ? { metadata: o.metadata } : {}) }), {
      metadata: { authorization: `Bearer ${o.token}` },
      timeoutMs: o.timeoutMs,
    });
    return res.certChain;
  } catch (err) {
    const why = err instanceof GrpcStatusError ? `status ${err.message}` : (err as Error).message;
    throw new TrellisError('CA_UNAVAILABLE', `CreateCertificate at ${o.address} failed: ${why}`, { cause: err });
  } finally {
    channel.close();
  }
}
