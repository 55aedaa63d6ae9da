/**
 * What a simulated proxy holds for a cluster, read from a
 * ClusterLoadAssignment's bytes without decoding it: the cluster name always
 * (field 1, one string), the endpoints only for the clusters asked about.
 * A churn benchmark checks every proxy's endpoints after every response, so
 * this stays a walk over the few fields that carry an address.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { HealthStatus } from '../../src/gen/envoy/config/core/v3/health_check_pb.js';
import { eachField } from './light-response.js';

/** envoy.config.endpoint.v3.ClusterLoadAssignment.cluster_name (1). */
function loadAssignmentName(cla: Uint8Array): string {
  const r = new BinaryReader(cla);
  while (r.pos < r.len) {
    const [n, wire] = r.tag();
    if (n === 1 && wire === WireType.LengthDelimited) return r.string();
    r.skip(wire, n);
  }
  return '';
}

/** Envoy routes to these; UNHEALTHY, DRAINING and TIMEOUT endpoints are not held. */
const usable = new Set([HealthStatus.UNKNOWN, HealthStatus.HEALTHY, HealthStatus.DEGRADED]);

/**
 * The endpoints a proxy would route to: "address:port" of every usable
 * endpoint of every locality, sorted, comma-separated (ChurnPlan.held's form).
 * endpoints (2) → lb_endpoints (2) → endpoint (1) and health_status (2) →
 * address (1) → socket_address (1) → address (2), port_value (3).
 */
function heldEndpoints(cla: Uint8Array): string {
  const out: string[] = [];
  eachField(cla, 2, (locality) =>
    eachField(locality, 2, (lb) => {
      let health = HealthStatus.UNKNOWN;
      let at = '';
      const r = new BinaryReader(lb);
      while (r.pos < r.len) {
        const [n, wire] = r.tag();
        if (n === 1 && wire === WireType.LengthDelimited) at = socketAddress(r.bytes());
        else if (n === 2 && wire === WireType.Varint) health = r.int32();
        else r.skip(wire, n);
      }
      if (at !== '' && usable.has(health)) out.push(at);
    }),
  );
  return out.sort().join(',');
}

function socketAddress(endpoint: Uint8Array): string {
  let text = '';
  eachField(endpoint, 1, (address) =>
    eachField(address, 1, (socket) => {
      let host = '';
      let port = 0;
      const r = new BinaryReader(socket);
      while (r.pos < r.len) {
        const [n, wire] = r.tag();
        if (n === 2 && wire === WireType.LengthDelimited) host = r.string();
        else if (n === 3 && wire === WireType.Varint) port = r.uint32();
        else r.skip(wire, n);
      }
      text = `${host}:${port}`;
    }),
  );
  return text;
}

interface Read {
  readonly name: string;
  endpoints?: string;
}

/** By content (the bytes as a latin1 string): a thousand proxies receive the same load assignments. Bounded. */
const memo = new Map<string, Read>();
const memoMax = 200_000;

/**
 * A load assignment's cluster name, and its held endpoints when `wanted`
 * says so, read once per distinct content for the whole process: a SotW
 * proxy receives every load assignment again with every push, and decoding
 * each (~20 µs) for a thousand proxies would make the clients the limit.
 */
export function readLoadAssignment(cla: Uint8Array, wanted: (cluster: string) => boolean): Readonly<Read> {
  const key = Buffer.from(cla.buffer, cla.byteOffset, cla.byteLength).toString('latin1');
  let read = memo.get(key);
  if (read === undefined) {
    if (memo.size >= memoMax) memo.clear();
    memo.set(key, (read = { name: loadAssignmentName(cla) }));
  }
  if (read.endpoints === undefined && wanted(read.name)) read.endpoints = heldEndpoints(cla);
  return read;
}
