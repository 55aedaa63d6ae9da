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
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { adsServiceDefinition } from '../../xds/ads-service.js';
import { errorMessage } from '../../errors.js';

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

export const adsServerDefinition = {
  StreamAggregatedResources: { ...sotw, requestDeserialize: tolerant('envoy.service.discovery.v3.DiscoveryRequest', sotw.requestDeserialize) },
  DeltaAggregatedResources: { ...delta, requestDeserialize: tolerant('envoy.service.discovery.v3.DeltaDiscoveryRequest', delta.requestDeserialize) },
} satisfies ServiceDefinition;
