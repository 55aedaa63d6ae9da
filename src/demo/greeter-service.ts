import type { ServiceDefinition } from '@grpc/grpc-js';

/**
 * The demo app's gRPC service: one unary method whose messages are UTF-8 JSON.
 * gRPC carries any bytes; JSON keeps the demo free of a .proto of its own while
 * every hop (HTTP/2 framing, trailers, xDS routing) stays real gRPC.
 */
export interface HelloRequest {
  name: string;
}
export interface HelloReply {
  message: string;
  /** Which backend answered (the --name of the server): what the demo counts. */
  from: string;
}

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString('utf8')) as unknown,
};

export const greeterService = {
  SayHello: {
    path: '/trellis.demo.Greeter/SayHello',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize as (v: HelloRequest) => Buffer,
    requestDeserialize: json.deserialize as (b: Buffer) => HelloRequest,
    responseSerialize: json.serialize as (v: HelloReply) => Buffer,
    responseDeserialize: json.deserialize as (b: Buffer) => HelloReply,
  },
} satisfies ServiceDefinition;
