/**
 * The injection webhook's HTTPS server (istiod's 15017): POST /inject with
 * an AdmissionReview, answered by admission.ts. Its certificate is issued by
 * the mesh CA for the webhook Service's DNS names (the caBundle of the
 * MutatingWebhookConfiguration is the mesh root) and renewed like the TLS
 * port's. Bodies are capped, slow clients are cut off, and nothing a client
 * sends can end the process.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrellisError, errorMessage } from '../errors.js';
import { logger, type Logger } from '../log.js';
import type { CertificateAuthority } from '../ca/authority.js';
import { namesWithBind, ServingCertificate, type ServingKeyPair } from '../ca/server/serving-certificate.js';
import type { Metrics } from '../controlplane/metrics/metrics.js';
import { handleReview, type ReviewContext } from './admission.js';

/** Kubernetes objects are at most ~1.5 MiB in etcd; a review carries the object (and maybe oldObject) with room to spare. */
export const MAX_REVIEW_BYTES = 6 * 1024 * 1024;
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface WebhookServerOptions extends ReviewContext {
  ca: CertificateAuthority;
  bind: string;
  port: number;
  /** DNS names of the certificate (the webhook Service's: istiod.NS.svc, istiod.NS.svc.cluster.local). */
  dnsNames: readonly string[];
  metrics: Metrics;
  log?: Logger;
}

/** The certificate's names: the Service's, localhost, and the bind address. */
export function webhookNames(bind: string, dnsNames: readonly string[]): { dnsNames: string[]; ips: string[] } {
  return namesWithBind(bind, [...dnsNames, 'localhost']);
}

export class WebhookServer {
  readonly #opts: WebhookServerOptions;
  readonly #log: Logger;
  #server: https.Server | undefined;
  #serving: ServingCertificate | undefined;

  constructor(opts: WebhookServerOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? logger('inject');
  }

  async listen(): Promise<number> {
    const { ca, bind, port, metrics } = this.#opts;
    const counters = {
      requests: metrics.counter('sidecar_injection_requests_total', 'Total number of sidecar injection requests.'),
      success: metrics.counter('sidecar_injection_success_total', 'Total number of successful sidecar injection requests.'),
      skip: metrics.counter('sidecar_injection_skip_total', 'Total number of skipped sidecar injection requests.'),
      failure: metrics.counter('sidecar_injection_failure_total', 'Total number of failed sidecar injection requests.'),
    };
    const context = (kp: ServingKeyPair) => ({ cert: kp.certChain, key: kp.privateKey });
    this.#serving = new ServingCertificate(ca, webhookNames(bind, this.#opts.dnsNames), this.#log, (kp) => this.#server?.setSecureContext(context(kp)));
    const server = https.createServer({ ...context(this.#serving.current), headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
      this.#serve(req, res, counters).catch((err: unknown) => {
        this.#log.error('webhook request failed', { error: errorMessage(err) });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    // A client that resets mid-handshake or mid-body is its own problem, never the process's.
    server.on('clientError', (_err, socket) => socket.destroy());
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new TrellisError('IO', `injection webhook cannot listen on ${bind}:${port}`, { cause: err })));
      server.listen(port, bind, () => {
        const bound = (server.address() as AddressInfo).port;
        this.#log.info('injection webhook listening', { address: `${bind}:${bound}`, path: '/inject' });
        resolve(bound);
      });
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse, c: Record<'requests' | 'success' | 'skip' | 'failure', { inc(): void }>): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://webhook');
    if (url.pathname !== '/inject' && !url.pathname.startsWith('/inject/')) return reply(res, 404, 'text/plain', `no such path: ${url.pathname}; the webhook serves /inject\n`);
    if (req.method !== 'POST') return reply(res, 405, 'text/plain', 'POST an AdmissionReview to /inject\n');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (type !== 'application/json') return reply(res, 415, 'text/plain', 'invalid Content-Type, want `application/json`\n');
    c.requests.inc();
    const body = await readCapped(req, MAX_REVIEW_BYTES);
    if (body === undefined) {
      c.failure.inc();
      res.setHeader('connection', 'close');
      return reply(res, 413, 'text/plain', `AdmissionReview larger than ${MAX_REVIEW_BYTES} bytes\n`);
    }
    const a = handleReview(body, this.#opts);
    const r = a.review.response;
    if (a.outcome === 'injected') c.success.inc();
    else if (a.outcome === 'skipped' || a.outcome === 'passed-through') c.skip.inc();
    else c.failure.inc();
    this.#log.info('injection request', {
      uid: r.uid, outcome: a.outcome, dryRun: a.dryRun, ...(a.decision ? { decidedBy: a.decision.decidedBy, reason: a.decision.reason } : {}),
      ...(r.result ? { message: r.result.message } : {}), ...(a.patch ? { ops: a.patch.length } : {}),
    });
    return reply(res, a.status, 'application/json', JSON.stringify(a.review));
  }

  async close(): Promise<void> {
    this.#serving?.stop();
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type }).end(body);
}

/** The body as text, or undefined once it passes `max` bytes (the rest is not read). */
async function readCapped(req: IncomingMessage, max: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
