/**
 * The proxy's hand-written gRPC bidi stream against a real grpc-js server:
 * framing both ways (large messages across DATA frames, several per chunk),
 * error statuses in trailers and trailers-only responses, an unreachable
 * server, and keepalive pings that go unanswered.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { GrpcChannel, GrpcStatusError, type BidiMethod, type BidiStream } from '../../../src/proxy/xds-client/grpc-stream.js';
import { freePort } from '../../helpers/ports.js';

const echo: BidiMethod<Buffer, Buffer> = {
  path: '/test.Echo/Chat',
  requestSerialize: (b) => b,
  responseDeserialize: (b) => Buffer.from(b),
};

function collect(s: BidiStream<Buffer, Buffer>, want: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve, reject) => {
    s.on('data', (m: Buffer) => {
      got.push(m);
      if (got.length === want) resolve(got);
    });
    s.on('error', reject);
  });
}

function ended(s: BidiStream<Buffer, Buffer>): Promise<Error | undefined> {
  let error: Error | undefined;
  s.on('error', (e: Error) => (error = e));
  return new Promise((resolve) => s.on('close', () => resolve(error)));
}

describe('gRPC bidi stream over node:http2', () => {
  let server: Server;
  let address: string;

  before(async () => {
    server = new Server();
    const passthrough = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
    const def = (path: string) => ({ path, requestStream: true, responseStream: true, requestSerialize: passthrough.serialize, requestDeserialize: passthrough.deserialize, responseSerialize: passthrough.serialize, responseDeserialize: passthrough.deserialize });
    server.addService({ Chat: def('/test.Echo/Chat'), Fail: def('/test.Echo/Fail') }, {
      // Echoes each message; "burst:N" answers with N small messages written at once (one DATA chunk).
      Chat: (call: ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (m: Buffer) => {
          const t = m.toString('latin1');
          if (t.startsWith('burst:')) for (let i = 0; i < Number(t.slice(6)); i++) call.write(Buffer.from(`m${i}`));
          else call.write(m);
        });
        call.on('end', () => call.end());
      },
      Fail: (call: ServerDuplexStream<Buffer, Buffer>) => {
        call.once('data', () => call.emit('error', { code: status.INVALID_ARGUMENT, details: 'bad request: naïve' }));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    address = `127.0.0.1:${port}`;
  });

  after(() => server.forceShutdown());

  it('carries messages both ways, large ones across frames and many in one chunk', async () => {
    const ch = new GrpcChannel(address);
    try {
      const s = ch.open(echo);
      const got = collect(s, 2 + 50);
      const big = Buffer.alloc(1_500_000, 7);
      s.write(Buffer.from('hello'));
      s.write(big);
      s.write(Buffer.from('burst:50'));
      const msgs = await got;
      assert.equal(msgs[0]!.toString(), 'hello');
      assert.ok(msgs[1]!.equals(big));
      assert.deepEqual(msgs.slice(2).map(String), Array.from({ length: 50 }, (_, i) => `m${i}`));
      const done = ended(s);
      s.cancel();
      assert.equal(await done, undefined, 'a cancel by the client is not an error');
    } finally {
      ch.close();
    }
  });

  it('reports the status and message of a failed call, then closes', async () => {
    const ch = new GrpcChannel(address);
    try {
      const s = ch.open({ ...echo, path: '/test.Echo/Fail' });
      const done = ended(s);
      s.write(Buffer.from('x'));
      const err = await done;
      assert.ok(err instanceof GrpcStatusError, String(err));
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.match(err.message, /bad request: naïve/);
    } finally {
      ch.close();
    }
  });

  it('reports UNIMPLEMENTED for an unknown method (trailers-only response)', async () => {
    const ch = new GrpcChannel(address);
    try {
      const err = await ended(ch.open({ ...echo, path: '/test.Echo/Nope' }));
      assert.ok(err instanceof GrpcStatusError, String(err));
      assert.equal(err.code, status.UNIMPLEMENTED);
    } finally {
      ch.close();
    }
  });

  it('errors and closes when nothing listens, and reconnects on the next open', async () => {
    const port = await freePort();
    const ch = new GrpcChannel(`127.0.0.1:${port}`);
    try {
      const err = await ended(ch.open(echo));
      assert.ok(err, 'an error before close');
    } finally {
      ch.close();
    }
    const ch2 = new GrpcChannel(address);
    try {
      const s = ch2.open(echo);
      const got = collect(s, 1);
      s.write(Buffer.from('again'));
      assert.equal(String((await got)[0]), 'again');
      s.cancel();
    } finally {
      ch2.close();
    }
  });

  it('closes a connection whose keepalive pings go unanswered', async () => {
    // A TCP peer that accepts and never speaks HTTP/2: the ping cannot be acknowledged.
    const sockets: Socket[] = [];
    const silent: NetServer = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const ch = new GrpcChannel(`127.0.0.1:${port}`, { keepaliveMs: 50, keepaliveTimeoutMs: 100 });
    try {
      const started = Date.now();
      const err = await ended(ch.open(echo));
      assert.ok(err, 'an error before close');
      assert.ok(Date.now() - started < 5000);
    } finally {
      ch.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
