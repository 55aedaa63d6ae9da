/**
 * The ADS service as the server registers it: the shared definition
 * (src/xds/ads-service.ts) with request deserializers that never throw.
 *
 * Why: when grpc-js cannot decode a request it sends INTERNAL itself, but
 * still delivers requests that arrived before it in the same DATA frame; the
 * handler's answer to those is then written after the stream was ended, and
 * the HTTP/2 stream hangs open forever, without trailers (found by
 * test/fuzz/xds-server.test.ts; grpc-js 1.14). Handing the failure to the
 * handler as a value lets the stream end the usual way (INVALID_ARGUMENT,
 * later requests ignored), as for any other bad request.
 *
 * Responses are encoded by parts (wire/parts-encoding.ts): every proxy of a
 * big mesh gets thousands of the same resources, and encoding each
 * response whole cost ~200 ms per proxy at 1,000 services (CDS + EDS, issue
 * 16) — a reconnect storm of 1,000 proxies spent minutes there. Each Any
 * (SotW) or Resource (Delta, built once per XdsResource) is encoded once and
 * its bytes are copied into every response that carries it; the result is
 * byte-identical to toBinary (test/unit/server/response-encoding.test.ts).
 * A whole set sent to many proxies (a reconnect storm: every proxy of a
 * scope gets the same clusters) is one shared list, encoded once as a
 * block: each response then costs one copy of it (parts-encoding.ts).
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { adsServiceDefinition } from '../../xds/ads-service.js';
import { errorMessage } from '../../errors.js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  ResourceSchema,
  type DeltaDiscoveryResponse,
  type DiscoveryResponse,
} from '../../gen/envoy/service/discovery/v3/discovery_pb.js';
import { encodeWithSharedList, memoEncoder } from '../wire/parts-encoding.js';

/** A request whose bytes are not the message the method takes. */
export class UndecodableRequest {
  constructor(readonly typeName: string, readonly reason: string) {}
}

function tolerant<T>(typeName: string, decode: (b: Buffer) => T): (b: Buffer) => T | UndecodableRequest {
  return (b) => {
    try {
      return decode(b);
    } catch (err) {
      return new UndecodableRequest(typeName, errorMessage(err));
    }
  };
}

const { StreamAggregatedResources: sotw, DeltaAggregatedResources: delta } = adsServiceDefinition;

const anyBytes = memoEncoder(AnySchema);
const resourceBytes = memoEncoder(ResourceSchema);
/** A Buffer over the same memory: the encoding is built at its exact size, a copy would only cost. */
const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function encodeSotwResponse(m: DiscoveryResponse): Buffer {
  return asBuffer(encodeWithSharedList(DiscoveryResponseSchema, m, 'resources', anyBytes));
}

export function encodeDeltaResponse(m: DeltaDiscoveryResponse): Buffer {
  return asBuffer(encodeWithSharedList(DeltaDiscoveryResponseSchema, m, 'resources', resourceBytes));
}

export const adsServerDefinition = {
  StreamAggregatedResources: {
    ...sotw,
    requestDeserialize: tolerant('envoy.service.discovery.v3.DiscoveryRequest', sotw.requestDeserialize),
    responseSerialize: encodeSotwResponse,
  },
  DeltaAggregatedResources: {
    ...delta,
    requestDeserialize: tolerant('envoy.service.discovery.v3.DeltaDiscoveryRequest', delta.requestDeserialize),
    responseSerialize: encodeDeltaResponse,
  },
} satisfies ServiceDefinition;
