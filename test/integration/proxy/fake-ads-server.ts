/**
 * A test double for the control plane: an in-process ADS server (grpc-js +
 * adsServiceDefinition) serving hand-built Envoy resources over Delta and
 * State-of-the-World, recording every request so tests can see ACKs and NACKs.
 * The real control plane replaces it in end-to-end tests.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { createHash } from 'node:crypto';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { adsServiceDefinition } from '../../../src/xds/ads-service.js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  ResourceSchema,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
} from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { wildcardTypes } from '../../../src/xds/type-urls.js';

export interface RecordedRequest {
  protocol: 'delta' | 'sotw';
  typeUrl: string;
  nonce: string;
  /** SotW: the version the client says it has (a NACK repeats the last accepted one); Delta: ''. */
  versionInfo: string;
  errorDetail: string | undefined;
  names: string[];
  nodeId: string | undefined;
}

interface DeltaStream {
  call: ServerDuplexStream<DeltaDiscoveryRequest, unknown>;
  subs: Map<string, Set<string> | 'wildcard'>;
  sent: Map<string, Map<string, string>>;
}

interface SotwStream {
  call: ServerDuplexStream<DiscoveryRequest, unknown>;
  subs: Map<string, Set<string> | 'wildcard'>;
}

const version = (a: Any) => createHash('sha256').update(toBinary(AnySchema, a)).digest('hex').slice(0, 12);

export class FakeAdsServer {
  readonly requests: RecordedRequest[] = [];
  readonly #state = new Map<string, Map<string, Any>>();
  readonly #delta = new Set<DeltaStream>();
  readonly #sotw = new Set<SotwStream>();
  #server: Server | undefined;
  #nonce = 0;
  #version = 0;
  port = 0;

  /** Replaces all resources of one type (the next push sends the difference). */
  setAll(typeUrl: string, resources: Array<[string, Any]>): void {
    this.#state.set(typeUrl, new Map(resources));
  }

  set(typeUrl: string, name: string, any: Any): void {
    let m = this.#state.get(typeUrl);
    if (!m) this.#state.set(typeUrl, (m = new Map()));
    m.set(name, any);
  }

  remove(typeUrl: string, name: string): void {
    this.#state.get(typeUrl)?.delete(name);
  }

  async start(port = 0): Promise<number> {
    const server = new Server();
    server.addService(adsServiceDefinition, {
      DeltaAggregatedResources: (call: ServerDuplexStream<DeltaDiscoveryRequest, unknown>) => this.#onDelta(call),
      StreamAggregatedResources: (call: ServerDuplexStream<DiscoveryRequest, unknown>) => this.#onSotw(call),
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    this.#server = server;
    return this.port;
  }

  /** Drops every stream at once, like a control plane crash. */
  stop(): void {
    for (const s of this.#delta) s.call.destroy();
    for (const s of this.#sotw) s.call.destroy();
    this.#delta.clear();
    this.#sotw.clear();
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  /** Sends the current state to every connected stream. */
  push(): void {
    this.#version++;
    for (const s of this.#delta) for (const t of s.subs.keys()) this.#sendDelta(s, t);
    for (const s of this.#sotw) for (const t of s.subs.keys()) this.#sendSotw(s, t);
  }

  get streams(): number {
    return this.#delta.size + this.#sotw.size;
  }

  /** Resolves when a recorded request satisfies `pred`; rejects after `timeoutMs`. */
  async waitFor(pred: (r: RecordedRequest) => boolean, timeoutMs = 5000, from = 0): Promise<RecordedRequest> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.requests.slice(from).find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no matching xDS request within ${timeoutMs} ms`);
  }

  #record(protocol: 'delta' | 'sotw', r: DeltaDiscoveryRequest | DiscoveryRequest, names: string[]): void {
    const versionInfo = 'versionInfo' in r ? r.versionInfo : '';
    this.requests.push({ protocol, typeUrl: r.typeUrl, nonce: r.responseNonce, versionInfo, errorDetail: r.errorDetail?.message, names, nodeId: r.node?.id });
  }

  #onDelta(call: ServerDuplexStream<DeltaDiscoveryRequest, unknown>): void {
    const s: DeltaStream = { call, subs: new Map(), sent: new Map() };
    this.#delta.add(s);
    call.on('data', (r: DeltaDiscoveryRequest) => {
      this.#record('delta', r, r.resourceNamesSubscribe);
      if (r.responseNonce) return; // ACK or NACK
      let sub = s.subs.get(r.typeUrl);
      if (!sub) {
        sub = wildcardTypes.has(r.typeUrl) && r.resourceNamesSubscribe.length === 0 ? 'wildcard' : new Set();
        s.subs.set(r.typeUrl, sub);
        s.sent.set(r.typeUrl, new Map(Object.entries(r.initialResourceVersions)));
      }
      if (sub !== 'wildcard') {
        for (const n of r.resourceNamesSubscribe) sub.add(n);
        for (const n of r.resourceNamesUnsubscribe) {
          sub.delete(n);
          s.sent.get(r.typeUrl)?.delete(n);
        }
      }
      this.#sendDelta(s, r.typeUrl);
    });
    call.on('error', () => undefined);
    call.on('end', () => { this.#delta.delete(s); call.end(); });
    call.on('close', () => this.#delta.delete(s));
  }

  #sendDelta(s: DeltaStream, typeUrl: string): void {
    const sub = s.subs.get(typeUrl);
    const sent = s.sent.get(typeUrl)!;
    const state = this.#state.get(typeUrl) ?? new Map<string, Any>();
    const wanted = (n: string) => sub === 'wildcard' || (sub?.has(n) ?? false);
    const resources = [];
    for (const [name, any] of state) {
      if (!wanted(name)) continue;
      const v = version(any);
      if (sent.get(name) === v) continue;
      sent.set(name, v);
      resources.push(create(ResourceSchema, { name, version: v, resource: any }));
    }
    const removed = [...sent.keys()].filter((n) => !state.has(n) && wanted(n));
    for (const n of removed) sent.delete(n);
    if (resources.length === 0 && removed.length === 0) return;
    s.call.write(create(DeltaDiscoveryResponseSchema, {
      typeUrl, resources, removedResources: removed, nonce: String(++this.#nonce), systemVersionInfo: String(this.#version),
    }));
  }

  #onSotw(call: ServerDuplexStream<DiscoveryRequest, unknown>): void {
    const s: SotwStream = { call, subs: new Map() };
    this.#sotw.add(s);
    call.on('data', (r: DiscoveryRequest) => {
      this.#record('sotw', r, r.resourceNames);
      const prev = s.subs.get(r.typeUrl);
      const next = wildcardTypes.has(r.typeUrl) && r.resourceNames.length === 0 ? 'wildcard' : new Set(r.resourceNames);
      s.subs.set(r.typeUrl, next);
      const changed = !prev || (prev !== 'wildcard' && next !== 'wildcard' && [...next].sort().join() !== [...prev].sort().join());
      if (!r.responseNonce || changed) this.#sendSotw(s, r.typeUrl);
    });
    call.on('error', () => undefined);
    call.on('end', () => { this.#sotw.delete(s); call.end(); });
    call.on('close', () => this.#sotw.delete(s));
  }

  #sendSotw(s: SotwStream, typeUrl: string): void {
    const sub = s.subs.get(typeUrl);
    const state = this.#state.get(typeUrl) ?? new Map<string, Any>();
    const resources = [...state].filter(([n]) => sub === 'wildcard' || (sub?.has(n) ?? false)).map(([, a]) => a);
    s.call.write(create(DiscoveryResponseSchema, { typeUrl, resources, versionInfo: String(this.#version), nonce: String(++this.#nonce) }));
  }
}
