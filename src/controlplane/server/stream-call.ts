import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { clip } from '../../clip.js';
import { errorMessage } from '../../errors.js';
import type { Node } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import type { StreamContext } from './context.js';
import { UndecodableRequest } from './server-service.js';

/** Parses the first request's node; the server is given this function (src/xds/parse-node.ts in production). */
export type ParseNode = (n: Node) => ProxyNode;

/**
 * Longest grpc-message we send. It travels percent-encoded in a trailer, and
 * a client's header-list limit (16 KiB in node:http2) turns a longer one into
 * a protocol error instead of the status we meant.
 */
const STATUS_MESSAGE_MAX = 1024;

/**
 * Wires a duplex ADS call to a handler: requests in order, one cleanup when
 * the stream goes away however it goes (client half-close, cancel, error).
 * A throw from the handler ends the stream with the error's status rather
 * than crashing the server.
 */
export function driveStream<Req, Res>(
  call: ServerDuplexStream<Req | UndecodableRequest, Res>,
  ctx: StreamContext,
  onRequest: (req: Req) => void,
  onGone: () => void,
): void {
  let gone = false;
  let received = 0;
  const cleanup = () => {
    if (gone) return;
    gone = true;
    onGone();
  };
  call.on('data', (req: Req | UndecodableRequest) => {
    if (gone) return;
    received++;
    try {
      if (req instanceof UndecodableRequest) throw invalidArgument(`request ${received} of the stream is not a valid ${req.typeName}: ${req.reason}`);
      onRequest(req);
    } catch (err) {
      const code = (err as { grpcCode?: number }).grpcCode ?? status.INTERNAL;
      if (code === status.INTERNAL) ctx.metrics.internalErrors.inc();
      const details = clip(errorMessage(err), STATUS_MESSAGE_MAX);
      // Once per stream: `gone` drops whatever the peer sends after this.
      ctx.log.warn(code === status.INVALID_ARGUMENT ? 'refusing xDS stream' : 'closing xDS stream', { peer: call.getPeer(), code: status[code], error: details });
      cleanup();
      call.emit('error', { code, details });
    }
  });
  call.on('end', () => {
    cleanup();
    call.end();
  });
  call.on('cancelled', cleanup);
  call.on('close', cleanup);
  call.on('error', cleanup);
}

/** An error that ends the stream with INVALID_ARGUMENT (bad first request). */
export function invalidArgument(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), { grpcCode: status.INVALID_ARGUMENT });
}

/** Parses the node of a stream's first request, or throws INVALID_ARGUMENT with the parser's reason. */
export function nodeOf(node: Node | undefined, parse: ParseNode): ProxyNode {
  if (!node) throw invalidArgument('first request of an xDS stream must carry a node');
  try {
    return parse(node);
  } catch (err) {
    throw invalidArgument(errorMessage(err), err);
  }
}
