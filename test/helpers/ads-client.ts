import { create } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { xdsRegistry } from '../../src/xds/registry.js';
import { credentials, makeGenericClientConstructor, type ChannelCredentials, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { NodeSchema } from '../../src/gen/envoy/config/core/v3/base_pb.js';
import { StatusSchema } from '../../src/gen/google/rpc/status_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { adsServiceDefinition } from '../../src/xds/ads-service.js';

const AdsClient = makeGenericClientConstructor(adsServiceDefinition, 'AggregatedDiscoveryService');

type AdsStub = Client & {
  StreamAggregatedResources(): ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  DeltaAggregatedResources(): ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
};

export function nodeId(pod: string, ns: string): string {
  return `sidecar~10.0.0.1~${pod}.${ns}~${ns}.svc.cluster.local`;
}

/** A raw ADS stream: writes requests, queues responses, waits for them with a time limit. */
class TestStream<Req, Res> {
  readonly #queue: Res[] = [];
  readonly #waiters: Array<(r: Res) => void> = [];
  error: Error | undefined;
  ended = false;
  #status: { code: number; details: string } | undefined;

  constructor(readonly call: ClientDuplexStream<Req, Res>) {
    call.on('status', (s: { code: number; details: string }) => {
      this.#status = { code: s.code, details: s.details };
    });
    call.on('data', (r: Res) => {
      const w = this.#waiters.shift();
      if (w) w(r);
      else this.#queue.push(r);
    });
    call.on('error', (e: Error) => {
      this.error = e;
    });
    call.on('end', () => {
      this.ended = true;
    });
  }

  send(req: Req): void {
    this.call.write(req);
  }

  /** The next response, or a rejection after `ms`. */
  next(ms = 2000): Promise<Res> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<Res>((resolve, reject) => {
      const waiter = (r: Res) => {
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`no response within ${ms} ms${this.error ? ` (stream error: ${this.error.message})` : ''}`));
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  /** Resolves true if no response arrives within `ms` (the response, if any, stays queued). */
  async quiet(ms = 200): Promise<boolean> {
    if (this.#queue.length) return false;
    await new Promise((r) => setTimeout(r, ms));
    return this.#queue.length === 0;
  }

  /** The status the server ended the stream with (code and message), or a rejection after `ms`. */
  async status(ms = 2000): Promise<{ code: number; details: string }> {
    await waitFor(() => this.#status !== undefined, ms);
    return this.#status!;
  }

  close(): void {
    this.call.cancel();
  }
}

export class SotwStream extends TestStream<DiscoveryRequest, DiscoveryResponse> {
  constructor(call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>, readonly node: string) {
    super(call);
  }

  request(typeUrl: string, resourceNames: string[] = [], responseNonce = '', versionInfo = ''): void {
    this.send(create(DiscoveryRequestSchema, { node: create(NodeSchema, { id: this.node }), typeUrl, resourceNames, responseNonce, versionInfo }));
  }

  ack(res: DiscoveryResponse, resourceNames: string[] = []): void {
    this.request(res.typeUrl, resourceNames, res.nonce, res.versionInfo);
  }

  nack(res: DiscoveryResponse, message: string, resourceNames: string[] = []): void {
    this.send(
      create(DiscoveryRequestSchema, {
        node: create(NodeSchema, { id: this.node }),
        typeUrl: res.typeUrl,
        resourceNames,
        responseNonce: res.nonce,
        errorDetail: create(StatusSchema, { code: 3, message }),
      }),
    );
  }
}

export class DeltaStream extends TestStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  /** `metadata`: the node's, sent with every request (as Envoy sends its Node on the first). */
  constructor(call: ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>, readonly node: string, readonly metadata: Record<string, string> = {}) {
    super(call);
  }

  request(typeUrl: string, fields: Partial<Pick<DeltaDiscoveryRequest, 'resourceNamesSubscribe' | 'resourceNamesUnsubscribe' | 'initialResourceVersions' | 'responseNonce'>> = {}): void {
    this.send(create(DeltaDiscoveryRequestSchema, { node: create(NodeSchema, { id: this.node, metadata: this.metadata }), typeUrl, ...fields }));
  }

  ack(res: DeltaDiscoveryResponse): void {
    this.request(res.typeUrl, { responseNonce: res.nonce });
  }

  nack(res: DeltaDiscoveryResponse, message: string): void {
    this.send(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: res.typeUrl,
        responseNonce: res.nonce,
        errorDetail: create(StatusSchema, { code: 3, message }),
      }),
    );
  }
}

/** One gRPC channel to the server; streams opened on it are closed with it. */
export class TestAdsClient {
  readonly #stub: AdsStub;
  readonly #streams: Array<{ close(): void }> = [];

  /** `creds`: plaintext unless given (TLS for the control plane's TLS port). */
  constructor(port: number, creds: ChannelCredentials = credentials.createInsecure()) {
    this.#stub = new AdsClient(`127.0.0.1:${port}`, creds) as unknown as AdsStub;
  }

  sotw(node: string): SotwStream {
    const s = new SotwStream(this.#stub.StreamAggregatedResources(), node);
    this.#streams.push(s);
    return s;
  }

  delta(node: string, metadata?: Record<string, string>): DeltaStream {
    const s = new DeltaStream(this.#stub.DeltaAggregatedResources(), node, metadata);
    this.#streams.push(s);
    return s;
  }

  close(): void {
    for (const s of this.#streams) s.close();
    this.#stub.close();
  }
}

/** Polls `cond` every 10 ms until it holds, or rejects after `ms`. */
export function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`condition not met within ${ms} ms`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

/** The name of a packed Cluster/Listener/RouteConfiguration (or cluster_name of a ClusterLoadAssignment). */
export function nameOfAny(any: Any): string {
  const m = anyUnpack(any, xdsRegistry) as { name?: string; clusterName?: string } | undefined;
  if (!m) throw new Error(`cannot unpack ${any.typeUrl}`);
  return m.name ?? m.clusterName ?? '';
}

export function namesOf(res: { resources: Any[] }): string[] {
  return res.resources.map(nameOfAny).sort();
}
