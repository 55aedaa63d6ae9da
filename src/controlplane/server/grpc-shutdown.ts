import type { Server } from '@grpc/grpc-js';

/** Lets calls in flight finish for up to `graceMs`, then cuts the rest: a stop never waits on a stuck stream. */
export function shutdownGrpcServer(server: Server, graceMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
