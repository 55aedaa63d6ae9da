import * as grpc from '@grpc/grpc-js';
import { greeterService, type HelloReply, type HelloRequest } from './greeter-service.js';

/** Starts the demo gRPC server; resolves with the bound port. */
export async function startGreeterServer(listen: string, name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(greeterService, {
    SayHello(call: grpc.ServerUnaryCall<HelloRequest, HelloReply>, done: grpc.sendUnaryData<HelloReply>) {
      done(null, { message: `hello ${call.request.name}`, from: name });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
