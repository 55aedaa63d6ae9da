import * as grpc from '@grpc/grpc-js';
import { greeterService, type HelloReply } from './greeter-service.js';

export interface ProxylessOptions {
  /** xds:///HOST:PORT */
  target: string;
  /** The control plane's ADS address, HOST:PORT. */
  xdsServer: string;
  nodeId: string;
  namespace: string;
}

/**
 * A proxyless gRPC client: @grpc/grpc-js-xds resolves `xds:///` targets
 * through the control plane, exactly as a gRPC app in an Istio mesh does with
 * GENERATOR=grpc in its bootstrap node metadata.
 */
export async function proxylessClient(opts: ProxylessOptions): Promise<{ hello(name: string, deadlineMs?: number): Promise<HelloReply>; close(): void }> {
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: opts.xdsServer, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: {
      id: opts.nodeId,
      metadata: { GENERATOR: 'grpc', NAMESPACE: opts.namespace },
      locality: {},
    },
  });
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  const Client = grpc.makeGenericClientConstructor(greeterService, 'Greeter');
  const client = new Client(opts.target, grpc.credentials.createInsecure());
  const hello = (name: string, deadlineMs = 5000) =>
    new Promise<HelloReply>((resolve, reject) => {
      const call = (client as unknown as Record<string, (...a: unknown[]) => void>).SayHello!;
      call.call(
        client,
        { name },
        { deadline: Date.now() + deadlineMs },
        (err: grpc.ServiceError | null, reply?: HelloReply) => (err ? reject(err) : resolve(reply!)),
      );
    });
  return { hello, close: () => client.close() };
}
