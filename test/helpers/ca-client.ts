/**
 * A grpc-js client of istio.v1.auth.IstioCertificateService over TLS, as a
 * workload calls it: trusting root-cert.pem, a bearer token in the metadata,
 * optionally a client certificate. Answers are results, not throws, so tests
 * can assert on status codes.
 */
import { create } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { IstioCertificateRequestSchema, type IstioCertificateRequest, type IstioCertificateResponse } from '../../src/gen/security/v1alpha1/ca_pb.js';
import { istioCertificateServiceDefinition } from '../../src/ca/server/ca-service.js';

const CaClient = makeGenericClientConstructor(istioCertificateServiceDefinition, 'IstioCertificateService');
type CaStub = Client & {
  CreateCertificate(req: IstioCertificateRequest, md: Metadata, opts: { deadline: number }, cb: (err: ServiceError | null, res?: IstioCertificateResponse) => void): void;
};

export type CaAnswer = { ok: true; certChain: string[] } | { ok: false; code: number; details: string };

export class TestCaClient {
  readonly #stub: CaStub;

  constructor(address: string, rootsPem: string, client?: { key: string; certChain: string }) {
    const creds = credentials.createSsl(Buffer.from(rootsPem), client ? Buffer.from(client.key) : null, client ? Buffer.from(client.certChain) : null);
    this.#stub = new CaClient(address, creds) as unknown as CaStub;
  }

  createCertificate(csr: string, token: string | undefined, validityDuration = 0): Promise<CaAnswer> {
    const md = new Metadata();
    if (token !== undefined) md.set('authorization', `Bearer ${token}`);
    const req = create(IstioCertificateRequestSchema, { csr, validityDuration: BigInt(validityDuration) });
    return new Promise((resolve) => {
      this.#stub.CreateCertificate(req, md, { deadline: Date.now() + 15_000 }, (err, res) => resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, certChain: res!.certChain }));
    });
  }

  close(): void {
    this.#stub.close();
  }
}
