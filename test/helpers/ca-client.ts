/**
 * A grpc-js client of istio.v1.auth.IstioCertificateService over TLS, as a
 * workload calls it: trusting root-cert.pem, a bearer token in the metadata,
 * optionally a client certificate. Answers are results, not throws, so tests
 * can assert on status codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { create, type JsonObject } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { IstioCertificateRequestSchema, type IstioCertificateRequest, type IstioCertificateResponse } from '../../src/gen/security/v1alpha1/ca_pb.js';
import { istioCertificateServiceDefinition } from '../../src/ca/server/ca-service.js';
import { trellisBin } from './trellis-process.js';

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

  /** `metadata`: the request's Struct (a node proxy's ImpersonatedIdentity), not the call's headers. */
  createCertificate(csr: string, token: string | undefined, validityDuration = 0, metadata?: JsonObject): Promise<CaAnswer> {
    const md = new Metadata();
    if (token !== undefined) md.set('authorization', `Bearer ${token}`);
    const req = create(IstioCertificateRequestSchema, { csr, validityDuration: BigInt(validityDuration), ...(metadata ? { metadata } : {}) });
    return new Promise((resolve) => {
      this.#stub.CreateCertificate(req, md, { deadline: Date.now() + 15_000 }, (err, res) => resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, certChain: res!.certChain }));
    });
  }

  close(): void {
    this.#stub.close();
  }
}

/** `trellis token create` for NS/SA, the real binary (`extra`: more flags, e.g. --pod NAME). */
export function tokenCreate(caDir: string, ns: string, sa: string, extra: string[] = []): string {
  const r = spawnSync(process.execPath, [trellisBin, 'token', 'create', '--ca-dir', caDir, '--namespace', ns, '--service-account', sa, ...extra], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}
