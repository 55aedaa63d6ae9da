/** The native addon on loopback sockets: loading, fds, errors; redirection itself is tested in integration/interception. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { getOriginalDst, nativeAvailable, originalDst, setTransparent, socketFd } from '../../../src/native/original-dst.js';

const linux = process.platform === 'linux';

describe('native addon', { skip: !linux && 'Linux only' }, () => {
  let server: Server;
  let accepted: Socket;
  let client: Socket;

  before(async () => {
    assert.deepEqual(nativeAvailable(), { ok: true }, 'the addon is built by `npm run build:native` (prepare)');
    const got = new Promise<Socket>((resolve) => {
      server = createServer((s) => resolve(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    client = connect(port, '127.0.0.1');
    accepted = await got;
  });
  after(async () => {
    client?.destroy();
    accepted?.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  test('an accepted socket has an fd', () => {
    assert.equal(typeof socketFd(accepted), 'number');
    assert.equal(socketFd({}), undefined);
  });

  test('a connection nobody redirected: no original destination, or the local address itself', () => {
    const d = originalDst(accepted);
    if (d !== undefined) assert.deepEqual(d, { address: accepted.localAddress, port: accepted.localPort, family: 4 });
  });

  test('not a socket, or not an fd: errors with a code, not a crash', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      assert.throws(() => getOriginalDst(fd), (e: NodeJS.ErrnoException) => e.code === 'ENOTSOCK');
    } finally {
      closeSync(fd);
    }
    assert.throws(() => getOriginalDst(-1), (e: NodeJS.ErrnoException) => e.code === 'EINVAL');
    assert.throws(() => getOriginalDst('3' as unknown as number), TypeError);
  });

  test('IP_TRANSPARENT: allowed with NET_ADMIN (root), refused with EPERM otherwise', () => {
    const fd = socketFd(server as unknown as Socket);
    assert.equal(typeof fd, 'number');
    if (process.getuid?.() === 0) setTransparent(fd as number);
    else assert.throws(() => setTransparent(fd as number), (e: NodeJS.ErrnoException) => e.code === 'EPERM');
  });
});
