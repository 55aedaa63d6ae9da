import type { Command } from 'commander';

/**
 * The demo app: a gRPC greeter server and a proxyless gRPC client that
 * routes through the control plane (xds:///). The client prints one JSON line
 * per call and a summary, so people and tests can watch a traffic split move.
 */
export function registerDemo(program: Command): void {
  const demo = program.command('demo').description('the demo app: gRPC greeter server and proxyless xDS client');

  demo
    .command('server')
    .description('run a gRPC greeter server that answers with its --name')
    .requiredOption('--listen <addr>', 'HOST:PORT to listen on')
    .option('--name <name>', 'name reported in replies (e.g. the version)', 'v1')
    .action(async (o: { listen: string; name: string }) => {
      const { startGreeterServer } = await import('../demo/greeter-server.js');
      const s = await startGreeterServer(o.listen, o.name);
      process.stdout.write(JSON.stringify({ listening: o.listen.replace(/:\d+$/, `:${s.port}`), name: o.name }) + '\n');
      const stop = () => void s.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  demo
    .command('client')
    .description('call the greeter through xDS (proxyless gRPC) and print which backend answered')
    .requiredOption('--target <uri>', 'xds:///HOST:PORT')
    .option('--xds <addr>', 'control plane ADS address', '127.0.0.1:15010')
    .option('--node-id <id>', 'xDS node id', 'sidecar~127.0.0.1~demo-client.default~default.svc.cluster.local')
    .option('--namespace <ns>', 'the client namespace', 'default')
    .option('--count <n>', 'number of calls (0 = until interrupted)', '100')
    .option('--interval-ms <ms>', 'pause between calls', '0')
    .action(async (o: { target: string; xds: string; nodeId: string; namespace: string; count: string; intervalMs: string }) => {
      const { proxylessClient } = await import('../demo/xds-client.js');
      const client = await proxylessClient({ target: o.target, xdsServer: o.xds, nodeId: o.nodeId, namespace: o.namespace });
      const count = Number(o.count);
      const interval = Number(o.intervalMs);
      const tally: Record<string, number> = {};
      let stopped = false;
      process.once('SIGTERM', () => (stopped = true));
      process.once('SIGINT', () => (stopped = true));
      for (let i = 1; !stopped && (count === 0 || i <= count); i++) {
        const t0 = performance.now();
        try {
          const r = await client.hello(`call-${i}`);
          tally[r.from] = (tally[r.from] ?? 0) + 1;
          process.stdout.write(JSON.stringify({ i, from: r.from, ms: +(performance.now() - t0).toFixed(2) }) + '\n');
        } catch (err) {
          tally.error = (tally.error ?? 0) + 1;
          process.stdout.write(JSON.stringify({ i, error: (err as Error).message }) + '\n');
        }
        if (interval > 0) await new Promise((r) => setTimeout(r, interval));
      }
      process.stdout.write(JSON.stringify({ summary: tally }) + '\n');
      client.close();
      process.exit(0);
    });
}
