/**
 * An in-process connection between an upstream (a cluster endpoint with an
 * envoy_internal_address) and an internal listener: two Duplex ends wired to
 * each other, no file descriptor, no port (Envoy's internal listener is the
 * same: a user-space socket pair). Each end offers the few net.Socket methods
 * the listener, codecs and pools call (setNoDelay, setTimeout, destroySoon,
 * addresses), so the code that serves a TCP connection serves this one
 * unchanged. Bytes keep their back-pressure (a write waits until the other
 * end reads), an end() is a FIN the other side reads as 'end' while its own
 * direction stays open, and destroying one end before its FIN resets the
 * other (after it, the other still reads to the end, as after a TCP close).
 */
import { Duplex } from 'node:stream';

export class InternalSocket extends Duplex {
  peer: InternalSocket | undefined;
  /** What the other end sees as this one: "envoy://NAME/ID" as Envoy prints an internal address. */
  localAddress: string;
  remoteAddress: string;
  readonly localPort = 0;
  readonly remotePort = 0;
  readonly connecting = false;
  /** The peer's write held until this end reads again (its buffer was full). */
  #pending: ((err?: Error) => void) | undefined;
  #idle: NodeJS.Timeout | undefined;

  constructor(local: string, remote: string) {
    super({ allowHalfOpen: true });
    this.localAddress = local;
    this.remoteAddress = remote;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    if (!peer || peer.destroyed) return cb(new Error('internal connection closed'));
    this.#touch();
    peer.#touch();
    if (peer.push(chunk)) return cb();
    peer.#pending = cb;
  }

  override _read(): void {
    const p = this.#pending;
    this.#pending = undefined;
    p?.();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.peer && !this.peer.destroyed) this.peer.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.#idle);
    const peer = this.peer;
    this.peer = undefined;
    const held = this.#pending;
    this.#pending = undefined;
    held?.(new Error('internal connection closed'));
    // Our FIN reached the peer: it still reads all we wrote, as after a TCP close (its own writes now fail, as
    // on a reset socket). Closed without a FIN (destroy, an error): the peer is reset, as by a TCP RST.
    if (peer && !peer.destroyed && !this.writableFinished) peer.destroy();
    cb(err);
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  /** net.Socket's idle timeout: 'timeout' (and `cb`) after `ms` without a byte either way; 0 turns it off. */
  setTimeout(ms: number, cb?: () => void): this {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    if (cb) this.once('timeout', cb);
    if (ms > 0) {
      this.#idle = setTimeout(() => this.emit('timeout'), ms);
      this.#idle.unref();
    }
    return this;
  }

  /** Ends our side, then closes once what was written is flushed (net.Socket's destroySoon). */
  destroySoon(): void {
    if (this.writableFinished) this.destroy();
    else {
      this.once('finish', () => this.destroy());
      this.end();
    }
  }

  #touch(): void {
    this.#idle?.refresh();
  }
}

/**
 * A connected pair: `client` for the upstream side, `server` for the listener.
 * 'connect' is emitted on the client on the next tick, as a TCP connect completes.
 */
export function internalPair(listenerName: string, endpointId: string): { client: InternalSocket; server: InternalSocket } {
  const address = `envoy://${listenerName}/${endpointId}`;
  const client = new InternalSocket('envoy://internal_client_address/', address);
  const server = new InternalSocket(address, 'envoy://internal_client_address/');
  client.peer = server;
  server.peer = client;
  process.nextTick(() => client.emit('connect'));
  return { client, server };
}
