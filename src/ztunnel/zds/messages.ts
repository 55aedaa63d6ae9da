/**
 * ZDS messages (proto/istio/zdsapi/zds.proto) to and from bytes, with the
 * node proxy's rules for what a request may carry (those of ztunnel's
 * inpod/protocol.rs): an `add` comes with exactly one fd, anything else
 * with none, a truncated packet is refused. Pure: the fds' fate is the
 * caller's.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { TrellisError, errorMessage } from '../../errors.js';
import {
  AckSchema, AddWorkloadSchema, DelWorkloadSchema, KeepWorkloadSchema, SnapshotSentSchema, Version, WorkloadRequestSchema, WorkloadResponseSchema, ZdsHelloSchema, type WorkloadRequest,
} from '../../gen/zdsapi/zds_pb.js';

export type ZdsRequest =
  | { kind: 'add'; uid: string; name: string; namespace: string; serviceAccount: string }
  | { kind: 'keep'; uid: string }
  | { kind: 'del'; uid: string }
  | { kind: 'snapshotSent' };

/** The version this side speaks; a hello with another is refused. */
export const ZDS_VERSION = Version.V1;

export function encodeHello(): Uint8Array {
  return toBinary(ZdsHelloSchema, create(ZdsHelloSchema, { version: ZDS_VERSION }));
}

/** The node proxy's first message; ZDS_PROTOCOL when it is not a V1 hello. */
export function parseHello(data: Uint8Array): void {
  const hello = decode('ZdsHello', () => fromBinary(ZdsHelloSchema, data));
  if (hello.version !== ZDS_VERSION) {
    throw new TrellisError('ZDS_PROTOCOL', `the node proxy speaks ZDS version ${Version[hello.version] ?? hello.version}, not V1`);
  }
}

export function encodeRequest(r: ZdsRequest): Uint8Array {
  const payload: WorkloadRequest['payload'] =
    r.kind === 'add' ? { case: 'add', value: create(AddWorkloadSchema, { uid: r.uid, workloadInfo: { name: r.name, namespace: r.namespace, serviceAccount: r.serviceAccount } }) }
      : r.kind === 'keep' ? { case: 'keep', value: create(KeepWorkloadSchema, { uid: r.uid }) }
        : r.kind === 'del' ? { case: 'del', value: create(DelWorkloadSchema, { uid: r.uid }) }
          : { case: 'snapshotSent', value: create(SnapshotSentSchema) };
  return toBinary(WorkloadRequestSchema, create(WorkloadRequestSchema, { payload }));
}

/** A request as the node proxy accepts it; ZDS_PROTOCOL with the reason otherwise. */
export function parseRequest(data: Uint8Array, fdCount: number, truncated: boolean): ZdsRequest {
  if (truncated) throw new TrellisError('ZDS_PROTOCOL', 'received a truncated message (too long, or too many fds)');
  const req = decode('WorkloadRequest', () => fromBinary(WorkloadRequestSchema, data));
  const p = req.payload;
  if (p.case === undefined) throw new TrellisError('ZDS_PROTOCOL', 'a WorkloadRequest with no payload');
  if (p.case === 'add') {
    if (fdCount !== 1) throw new TrellisError('ZDS_PROTOCOL', `an add must carry exactly one network namespace fd, this one carried ${fdCount}`);
    const info = p.value.workloadInfo;
    return { kind: 'add', uid: p.value.uid, name: info?.name ?? '', namespace: info?.namespace ?? '', serviceAccount: info?.serviceAccount ?? '' };
  }
  if (fdCount !== 0) throw new TrellisError('ZDS_PROTOCOL', `a ${p.case} must carry no fd, this one carried ${fdCount}`);
  if (p.case === 'keep') return { kind: 'keep', uid: p.value.uid };
  if (p.case === 'del') return { kind: 'del', uid: p.value.uid };
  return { kind: 'snapshotSent' };
}

/** An ack; a non-empty `error` is a NACK. */
export function encodeAck(error = ''): Uint8Array {
  return toBinary(WorkloadResponseSchema, create(WorkloadResponseSchema, { payload: { case: 'ack', value: create(AckSchema, { error }) } }));
}

/** The ack's error ('' for success); ZDS_PROTOCOL when the bytes are not an ack. */
export function parseAck(data: Uint8Array): string {
  const res = decode('WorkloadResponse', () => fromBinary(WorkloadResponseSchema, data));
  if (res.payload.case !== 'ack') throw new TrellisError('ZDS_PROTOCOL', 'a WorkloadResponse with no ack');
  return res.payload.value.error;
}

function decode<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new TrellisError('ZDS_PROTOCOL', `not a ZDS ${what}: ${errorMessage(err)}`, { cause: err });
  }
}
