/**
 * The smallest SotW ADS server that grpc-js-xds accepts, with none of
 * AdsServer's logic: it answers a request whose resource names changed, and
 * sends a type again when the test replaces its resources. Used to show what
 * the client does with a given sequence of responses (the upstream bug
 * reproduction), independently of how Trellis' server behaves.
 */
import { create } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  DiscoveryResponseSchema,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import type { XdsResource } from '../../../src/controlplane/wire/resource.js';
import { adsServiceDefinition } from '../../../src/xds/ads-service.js';

type Call = ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;

export class BareSotwServer {
  readonly #resources = new Map<string, readonly XdsResource[]>();
  /** Per stream: the names last requested, by type. */
  readonly #streams = new Map<Call, Map<string, string[]>>();
  readonly #server = new Server();
  #counter = 0;

  /** Replaces one type's resources and sends them to every stream that watches the type. */
  set(typeUrl: string, resources: readonly XdsResource[]): void {
    this.#resources.set(typeUrl, resources);
    for (const [call, watched] of this.#streams) {
      const names = watched.get(typeUrl);
      if (names) this.#send(call, typeUrl, names);
    }
  }

  async listen(): Promise<number> {
    this.#server.addService(adsServiceDefinition, {
      StreamAggregatedResources: (call: Call) => this.#serve(call),
      DeltaAggregatedResources: (call: ServerDuplexStream<unknown, unknown>) => call.end(),
    });
    return new Promise((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  }

  close(): void {
    this.#server.forceShutdown();
  }

  #serve(call: Call): void {
    const watched = new Map<string, string[]>();
    this.#streams.set(call, watched);
    call.on('data', (req: DiscoveryRequest) => {
      const names = [...req.resourceNames].sort();
      const before = watched.get(req.typeUrl);
      watched.set(req.typeUrl, names);
      // An ACK or NACK of the same names needs no answer.
      if (before === undefined || before.join('\n') !== names.join('\n')) this.#send(call, req.typeUrl, names);
    });
    const gone = () => this.#streams.delete(call);
    call.on('end', () => (gone(), call.end()));
    call.on('cancelled', gone);
    call.on('error', gone);
  }

  #send(call: Call, typeUrl: string, names: readonly string[]): void {
    const all = this.#resources.get(typeUrl) ?? [];
    const resources = all.filter((r) => names.length === 0 || names.includes(r.name)).map((r) => r.any);
    const n = String(++this.#counter);
    call.write(create(DiscoveryResponseSchema, { typeUrl, versionInfo: n, nonce: n, resources }));
  }
}
