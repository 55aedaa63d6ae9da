/**
 * Test helper process (not a test): a TCP server on the given ports that
 * answers each connection with one JSON line saying who it is, which port
 * accepted, the peer, and the original destination (SO_ORIGINAL_DST via the
 * addon). Stands in for the proxy on 15001/15006 and for applications.
 * Usage: node identity-server.js NAME PORT[,PORT...] [--transparent | --udp]
 * (--udp: UDP ports, answering each datagram the same way; for DNS capture.)
 * Prints "ready" once every port listens. Without arguments it exits at once.
 */
import { createSocket } from 'node:dgram';
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

/** IPv4 peers of the dual-stack listener show as ::ffff:a.b.c.d; report them as plain IPv4. */
function plain(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

function describe(name: string, port: number, s: Socket): Identity {
  const o = nativeAvailable().ok ? originalDst(s) : undefined;
  return {
    name,
    listener: port,
    peer: `${plain(s.remoteAddress)}:${s.remotePort}`,
    local: `${plain(s.localAddress)}:${s.localPort}`,
    orig: o ? `${o.address}:${o.port}` : null,
    uid: process.getuid?.() ?? -1,
  };
}

async function main(argv: string[]): Promise<void> {
  const [name, portList, flag] = argv;
  if (!name || !portList) return;
  const ports = portList.split(',').map(Number);
  if (flag === '--udp') {
    for (const port of ports) await listenUdp(name, port);
    process.stdout.write('ready\n');
    return;
  }
  for (const port of ports) {
    const server = createServer((s) => {
      s.on('error', () => {});
      s.end(JSON.stringify(describe(name, port, s)) + '\n');
    });
    await listenDualStack(server, port);
    if (flag === '--transparent') {
      const fd = socketFd(server as unknown as { _handle?: unknown });
      if (fd === undefined) throw new Error('listening socket has no fd');
      setTransparent(fd);
    }
  }
  process.stdout.write('ready\n');
}

/** Listens on :: (IPv4 and IPv6), or on 0.0.0.0 where the kernel has no IPv6. */
async function listenDualStack(server: ReturnType<typeof createServer>, port: number): Promise<void> {
  const attempt = (host: string) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    await attempt('::');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
    await attempt('0.0.0.0');
  }
}

function listenUdp(name: string, port: number): Promise<void> {
  const sock = createSocket('udp4');
  sock.on('message', (_msg, rinfo) => {
    const id = { name, listener: port, peer: `${rinfo.address}:${rinfo.port}`, local: null, orig: null, uid: process.getuid?.() ?? -1 };
    sock.send(JSON.stringify(id) + '\n', rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, '0.0.0.0', () => resolve());
  });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`identity-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
