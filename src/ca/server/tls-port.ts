/**
 * The control plane's TLS port (istiod's 15012): the certificate service and
 * ADS on one gRPC server, with the control plane's own CA-issued certificate.
 *
 * Client certificates are requested but optional at the TLS layer: a new
 * workload has none yet and must still reach CreateCertificate with its
 * token. ADS is then checked per stream: grpc-js 1.14's call.getAuthContext()
 * reports sslPeerCertificate only when the TLS socket is `authorized`, i.e.
 * the client presented a certificate that verified against the trust bundle
 * — so a stream without one (or with a foreign one) ends UNAUTHENTICATED.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import { TrellisError } from '../../errors.js';
import { logger, type Logger } from '../../log.js';
import { bindError, type AdsServer } from '../../controlplane/server/ads-server.js';
import type { Metrics } from '../../controlplane/metrics/metrics.js';
import type { CertificateAuthority } from '../authority.js';
import type { TokenVerifier } from '../token.js';
import type { WorkloadIdentity } from '../spiffe.js';
import type { PodDirectory } from '../impersonation/node-authorizer.js';
import { istioCertificateServiceDefinition } from './ca-service.js';
import { caMetrics } from './ca-metrics.js';
import { createCertificateHandler } from './create-certificate.js';
import { CappedLog } from './log-cap.js';
import { ServingCertificate, servingNames, type ServingKeyPair } from './serving-certificate.js';
import { shutdownGrpcServer } from '../../controlplane/server/grpc-shutdown.js';

export interface TlsPortOptions {
  ca: CertificateAuthority;
  tokens: TokenVerifier;
  ads: AdsServer;
  bind: string;
  port: number;
  /** Cluster domain for the istiod.NAMESPACE.svc.DOMAIN name. */
  domainSuffix: string;
  /** The control plane's namespace on Kubernetes (its Service's names); istio-system by default. */
  namespace?: string;
  metrics: Metrics;
  log?: Logger;
  /** Node proxies' service accounts, allowed to ask for the identities of pods on their node (node-authorizer.ts). */
  trustedNodeAccounts?: readonly WorkloadIdentity[];
  /** The pods as the control plane sees them now. */
  pods?: () => PodDirectory;
}

/** The same keepalive and size limits as the plaintext ADS port. */
const serverOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

/**
 * Server credentials whose certificate can be replaced while serving:
 * grpc-js applies updates with setSecureContext, so new handshakes get the
 * new certificate and established connections keep theirs.
 */
class RenewableCredentials extends ServerCredentials {
  constructor(initial: SecureContextOptions) {
    super({ requestCert: true, rejectUnauthorized: false }, initial);
  }

  update(options: SecureContextOptions): void {
    this.updateSecureContextOptions(options);
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

export class TlsPort {
  readonly #opts: TlsPortOptions;
  readonly #log: Logger;
  #server: Server | undefined;
  #serving: ServingCertificate | undefined;

  constructor(opts: TlsPortOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? logger('ca');
  }

  /** Issues the serving certificate, binds, and resolves with the bound port. */
  async listen(): Promise<number> {
    const { ca, bind, port } = this.#opts;
    const metrics = caMetrics(this.#opts.metrics);
    const firstRoot = ca.rootCertificates()[0];
    if (firstRoot) metrics.rootExpiry.set(Math.floor(Date.parse(new X509Certificate(firstRoot).validTo) / 1000));
    const contextOf = (kp: ServingKeyPair): SecureContextOptions => ({ ca: ca.rootsPem(), cert: kp.certChain, key: kp.privateKey });
    let creds: RenewableCredentials | undefined;
    this.#serving = new ServingCertificate(ca, servingNames(bind, this.#opts.domainSuffix, this.#opts.namespace), this.#log, (kp) => creds?.update(contextOf(kp)));
    creds = new RenewableCredentials(contextOf(this.#serving.current));

    const server = new Server(serverOptions);
    server.addService(istioCertificateServiceDefinition, {
      CreateCertificate: createCertificateHandler({
        ca, tokens: this.#opts.tokens, log: this.#log, metrics,
        ...(this.#opts.trustedNodeAccounts ? { trustedNodeAccounts: this.#opts.trustedNodeAccounts } : {}),
        ...(this.#opts.pods ? { pods: this.#opts.pods } : {}),
      }),
    });
    const adsRefusals = new CappedLog(this.#log);
    this.#opts.ads.addTo(server, (call) => {
      if (call.getAuthContext().sslPeerCertificate) return undefined;
      adsRefusals.warn('ADS stream on the TLS port refused: no verified client certificate', { peer: call.getPeer() });
      return 'ADS on the TLS port needs a client certificate from this control plane\'s CA (get one with CreateCertificate); plaintext ADS is on the xDS port';
    });
    const addr = bind.includes(':') && !bind.startsWith('[') ? `[${bind}]:${port}` : `${bind}:${port}`;
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(addr, creds, (err, p) => (err ? reject(new TrellisError('IO', `CA server cannot listen on ${addr}`, { cause: bindError(err, port) })) : resolve(p)));
    });
    this.#server = server;
    this.#log.info('CA and ADS over TLS listening', { address: `${bind}:${bound}` });
    return bound;
  }

  async close(): Promise<void> {
    this.#serving?.stop();
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await shutdownGrpcServer(server);
  }
}
