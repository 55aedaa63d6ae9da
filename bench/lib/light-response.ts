/**
 * ADS responses read the cheap way, for the simulated proxies: the fields a
 * proxy acts on and each resource's payload bytes (Any.value), without
 * building protobuf-es messages. A thousand simulated proxies share one
 * process: decoding ~12,000 Any messages per proxy at 1,000 services made
 * the clients, not the control plane, the limit of the benchmark.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export interface LightResponse {
  /** SotW version_info, or Delta system_version_info. */
  version: string;
  typeUrl: string;
  nonce: string;
  /** The resources' encoded messages (Any.value), in order. */
  resources: Uint8Array[];
}

/** envoy.service.discovery.v3.DiscoveryResponse: version_info 1, resources 2 (Any), type_url 4, nonce 5. */
export function readSotwResponse(bytes: Uint8Array): LightResponse {
  return readResponse(bytes, anyValue);
}

/** DeltaDiscoveryResponse: system_version_info 1, resources 2 (Resource, whose resource 2 is the Any), type_url 4, nonce 5. */
export function readDeltaResponse(bytes: Uint8Array): LightResponse {
  return readResponse(bytes, (resource) => {
    const any = field(resource, 2);
    return any === undefined ? undefined : anyValue(any);
  });
}

function readResponse(bytes: Uint8Array, payload: (resource: Uint8Array) => Uint8Array | undefined): LightResponse {
  const out: LightResponse = { version: '', typeUrl: '', nonce: '', resources: [] };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wire] = r.tag();
    if (wire !== WireType.LengthDelimited) r.skip(wire, no);
    else if (no === 1) out.version = r.string();
    else if (no === 2) {
      const value = payload(r.bytes());
      if (value) out.resources.push(value);
    } else if (no === 4) out.typeUrl = r.string();
    else if (no === 5) out.nonce = r.string();
    else r.skip(wire, no);
  }
  return out;
}

/** google.protobuf.Any: value is field 2. */
function anyValue(any: Uint8Array): Uint8Array {
  return field(any, 2) ?? new Uint8Array(0);
}

/** The last length-delimited field `no` of a message, or undefined. */
function field(bytes: Uint8Array, no: number): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  eachField(bytes, no, (b) => (found = b));
  return found;
}

/** Calls `fn` with every length-delimited field `no` of a message, in order. */
export function eachField(bytes: Uint8Array, no: number, fn: (value: Uint8Array) => void): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [n, wire] = r.tag();
    if (n === no && wire === WireType.LengthDelimited) fn(r.bytes());
    else r.skip(wire, n);
  }
}
