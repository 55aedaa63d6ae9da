import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { TrellisError } from '../../errors.js';
import { logger, type Logger } from '../../log.js';
import type {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from '../../gen/envoy/service/discovery/v3/discovery_pb.js';
import type { Generator } from '../translate/generator.js';
import { Metrics } from '../metrics/metrics.js';
import { xdsMetrics, type XdsMetrics } from '../metrics/xds-metrics.js';
import { nonceFactory, versionMemo, type PushTarget, type StreamContext } from './context.js';
import { serveDelta } from './delta-stream.js';
import { serveSotw } from './sotw-stream.js';
import { ReappearanceMemo } from './reappearance.js';
import { adsServerDefinition, type UndecodableRequest } from './server-service.js';
import type { ParseNode } from './stream-call.js';
import { proxyId, proxySyncStatus, type ProxySyncStatus } from './sync-status.js';
import { shutdownGrpcServer } from './grpc-shutdown.js';

export interface AdsServerOptions {
  /** The generator of the current MeshModel; replaced with setGenerator() on every push. */
  generator: Generator;
  /** Turns the first request's Node into a ProxyNode (src/xds/parse-node.ts in production). */
  parseNode: ParseNode;
  log?: Logger;
  /** Registry for the pilot_* metrics; a private one when absent. */
  metrics?: Metrics;
}

/** What one push() did. */
export interface PushStats {
  /** Proxies connected when the push ran. */
  proxies: number;
  /** Proxies that were sent at least one response. */
  proxiesUpdated: number;
  /** Responses sent, all types together. */
  responses: number;
  durationMs: number;
}

/** A connected stream (SotwConnection or DeltaConnection), as the push loop and debug endpoints see it. */
export type Connection = PushTarget;

/**
 * Keepalive for many long-lived streams: ping idle connections so dead peers
 * are noticed, but let clients ping us no more often than every 10 s.
 */
const serverOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

/**
 * The ADS server: SotW and Delta streams over one gRPC service. Owns the
 * connections; a push swaps the generator and re-evaluates every connected
 * proxy, sending only types whose set version changed.
 */
export class AdsServer {
  readonly #log: Logger;
  readonly #metrics: XdsMetrics;
  readonly #parseNode: ParseNode;
  readonly #connections = new Set<Connection>();
  readonly #reappearance = new ReappearanceMemo();
  #generator: Generator;
  #versionOf = versionMemo();
  #server: Server | undefined;

  constructor(opts: AdsServerOptions) {
    this.#generator = opts.generator;
    this.#parseNode = opts.parseNode;
    this.#log = opts.log ?? logger('xds');
    this.#metrics = xdsMetrics(opts.metrics ?? new Metrics());
  }

  /** Binds and starts serving; resolves with the bound port (useful with port 0). */
  async listen(host: string, port: number): Promise<number> {
    if (this.#server) throw new TrellisError('XDS_PROTOCOL', 'AdsServer is already listening');
    const server = new Server(serverOptions);
    this.addTo(server);
    const addr = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(addr, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(new TrellisError('IO', `xDS server cannot listen on ${addr}`, { cause: bindError(err, port) })) : resolve(p),
      );
    });
    this.#server = server;
    this.#log.info('xDS server listening', { address: `${host}:${bound}` });
    return bound;
  }

  /**
   * Serves ADS on a gRPC server this class does not own (the CA's TLS port,
   * 15012): the same connections, pushes and debug views as listen()'s.
   * `admit` sees each stream before its first request and may refuse it by
   * returning the reason; the stream then ends with UNAUTHENTICATED.
   */
  addTo(server: Server, admit?: (call: ServerDuplexStream<unknown, unknown>) => string | undefined): void {
    const ctx = this.#context();
    const gate = <C extends ServerDuplexStream<unknown, unknown>>(serve: (call: C) => void) => (call: C) => {
      const refusal = admit?.(call);
      if (refusal === undefined) serve(call);
      else call.emit('error', { code: status.UNAUTHENTICATED, details: refusal });
    };
    server.addService(adsServerDefinition, {
      StreamAggregatedResources: gate((call: ServerDuplexStream<DiscoveryRequest | UndecodableRequest, DiscoveryResponse>) => serveSotw(call, ctx, this.#parseNode)),
      DeltaAggregatedResources: gate((call: ServerDuplexStream<DeltaDiscoveryRequest | UndecodableRequest, DeltaDiscoveryResponse>) => serveDelta(call, ctx, this.#parseNode)),
    });
  }

  #context(): StreamContext {
    return {
      generator: () => this.#generator,
      versionOf: (set) => this.#versionOf(set),
      log: this.#log,
      metrics: this.#metrics,
      nonce: nonceFactory(),
      reappearance: (nodeId) => this.#reappearance.forNode(nodeId),
      connected: (c) => {
        this.#connections.add(c);
        this.#metrics.connected.set(this.#connections.size);
        this.#log.info('proxy connected', { proxy: c.node.id, stream: c.kind });
      },
      disconnected: (c) => {
        if (!this.#connections.delete(c)) return;
        this.#metrics.connected.set(this.#connections.size);
        this.#log.info('proxy disconnected', { proxy: c.node.id });
      },
    };
  }

  /** Replaces the generator; takes effect for new requests at once and for everyone on push(). */
  setGenerator(g: Generator): void {
    this.#generator = g;
    this.#versionOf = versionMemo();
  }

  /** Recomputes every connected proxy's resources and sends what changed (CDS, EDS, LDS, RDS order). */
  push(): PushStats {
    const started = performance.now();
    let responses = 0;
    let proxiesUpdated = 0;
    const targets = [...this.#connections];
    for (const c of targets) {
      const n = c.push(started);
      responses += n;
      if (n > 0) proxiesUpdated++;
    }
    const durationMs = performance.now() - started;
    this.#metrics.pushTime.observe(durationMs / 1000);
    this.#log.debug('push', { proxies: targets.length, proxiesUpdated, responses, durationMs });
    return { proxies: targets.length, proxiesUpdated, responses, durationMs };
  }

  /** The connected streams, oldest first. */
  connections(): readonly Connection[] {
    return [...this.#connections];
  }

  /** /debug/syncz: one entry per connected stream. */
  syncStatus(): ProxySyncStatus[] {
    return this.connections().map((c) => proxySyncStatus(c));
  }

  /** The newest stream of a proxy, found by full node id or by "pod.namespace". */
  findProxy(id: string): Connection | undefined {
    const all = this.connections();
    for (let i = all.length - 1; i >= 0; i--) {
      if (all[i].node.id === id || proxyId(all[i].node) === id) return all[i];
    }
    return undefined;
  }

  /** Ends every stream and stops the server; streams get a clean OK status. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const c of this.#connections) c.close();
    this.#connections.clear();
    this.#metrics.connected.set(0);
    if (!server) return;
    await shutdownGrpcServer(server);
  }
}

/** grpc-js reports a failed bind as one message ("... errors: [listen EADDRINUSE: ...]"): give it back its errno code and port. */
export function bindError(err: Error, port: number): Error {
  const code = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(err.message)?.[1];
  return code ? Object.assign(new Error(`listen ${code}`, { cause: err }), { code, port }) : err;
}
