/**
 * Test helper process (not a test): a TCP server on the given ports that
 * answers each connection with one JSON line saying who it is, which port
 * accepted, the peer, and the original destination (SO_ORIGINAL_DST via the
 * addon). Stands in for the proxy on 15001/15006 and for applications.
 * Usage: node identity-server.js NAME PORT[,PORT...] [--transparent]
 * Prints "ready" once every port listens. Without arguments it exits at once.
 */
import { createServer, type Socket } from 'node:net';
import { nativeAvailable, originalDst, setTransparent, socketFd } from '../../../src/native/original-dst.js';

export interface Identity {
  name: string;
  listener: number;
  peer: string;
  local: string;
  orig: string | null;
  uid: number;
}

function describe(name: string, port: number, s: Socket): Identity {
  const o = nativeAvailable().ok ? originalDst(s) : undefined;
  return {
    name,
    listener: port,
    peer: `${s.remoteAddress}:${s.remotePort}`,
    local: `${s.localAddress}:${s.localPort}`,
    orig: o ? `${o.address}:${o.port}` : null,
    uid: process.getuid?.() ?? -1,
  };
}

async function main(argv: string[]): Promise<void> {
  const [name, portList, flag] = argv;
  if (!name || !portList) return;
  const ports = portList.split(',').map(Number);
  for (const port of ports) {
    const server = createServer((s) => {
      s.on('error', () => {});
      s.end(JSON.stringify(describe(name, port, s)) + '\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '0.0.0.0' }, resolve);
    });
    if (flag === '--transparent') {
      const fd = socketFd(server as unknown as { _handle?: unknown });
      if (fd === undefined) throw new Error('listening socket has no fd');
      setTransparent(fd);
    }
  }
  process.stdout.write('ready\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`identity-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
