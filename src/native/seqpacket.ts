/**
 * Unix SOCK_SEQPACKET sockets (native/src/seqpacket.cc), which Node's net
 * module cannot open: message boundaries kept, fds passed with SCM_RIGHTS.
 * The transport of ZDS (src/ztunnel/zds/). Every fd is non-blocking and
 * watched by libuv's poller, so reading is event-driven on the JS thread
 * like any socket's; a send never waits (ZDS sends one small message per
 * acknowledgement, far below the socket buffer, so a full buffer is an
 * error, EAGAIN, rather than something to queue for).
 */
import { unlinkSync } from 'node:fs';
import { TrellisError, errorMessage } from '../errors.js';
import { nativeCall, type RawPacket } from './addon.js';

export type Packet = RawPacket;

/** Packets read per wake-up before yielding to the event loop (libuv wakes us again while more wait). */
const READS_PER_WAKEUP = 64;
/** Largest packet read whole by default; a longer one arrives `truncated`. */
const DEFAULT_MAX_PACKET = 4096;

export interface ConnectionEvents {
  /** A packet; the receiver owns `fds` and must close those it does not keep. */
  packet(p: Packet): void;
  /** The peer closed (no error) or the socket failed; not called after close(). */
  closed(err?: Error): void;
}

/** An fd of ours in libuv's poll set: `readable` runs when it is; closing stops the watch first (libuv's rule). */
class WatchedFd {
  protected fd: number | undefined;
  #watch: object | undefined;

  constructor(fd: number, readable: () => void) {
    this.fd = fd;
    try {
      this.#watch = nativeCall('watch a seqpacket socket', (a) => a.watchReadable(fd, readable));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get open(): boolean {
    return this.fd !== undefined;
  }

  /** Stops reading and closes the fd; idempotent. */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    const watch = this.#watch;
    this.#watch = undefined;
    try {
      nativeCall('close', (a) => {
        if (watch) a.unwatch(watch);
        a.closeFd(fd);
      });
    } catch (err) {
      // A close that fails leaves nothing to do; say so rather than throw from cleanup paths.
      process.emitWarning(`seqpacket close: ${errorMessage(err)}`);
    }
  }
}

export class SeqpacketConnection extends WatchedFd {
  readonly #events: ConnectionEvents;
  readonly #maxPacket: number;

  /** Takes ownership of a connected socket's fd. */
  constructor(fd: number, events: ConnectionEvents, maxPacket = DEFAULT_MAX_PACKET) {
    super(fd, () => this.#readable());
    this.#events = events;
    this.#maxPacket = maxPacket;
  }

  /** Connects at once or throws a NATIVE error whose cause's code says why (ENOENT, ECONNREFUSED, EAGAIN: backlog full). */
  static connect(path: string, events: ConnectionEvents, maxPacket?: number): SeqpacketConnection {
    const fd = nativeCall(`connect to ${path}`, (a) => a.seqpacketConnect(path));
    return new SeqpacketConnection(fd, events, maxPacket);
  }

  /** One packet, with `passFd` duplicated to the peer when given (the caller still owns its own). */
  send(data: Uint8Array, passFd?: number): void {
    const fd = this.fd;
    if (fd === undefined) throw new TrellisError('NATIVE', 'send on a closed seqpacket socket', { cause: Object.assign(new Error('closed'), { code: 'EBADF' }) });
    nativeCall('send', (a) => a.seqpacketSend(fd, Buffer.from(data.buffer, data.byteOffset, data.byteLength), passFd ?? -1));
  }

  #readable(): void {
    for (let i = 0; i < READS_PER_WAKEUP && this.fd !== undefined; i++) {
      let p: Packet | null;
      try {
        const fd = this.fd;
        p = nativeCall('receive', (a) => a.seqpacketRecv(fd, this.#maxPacket));
      } catch (err) {
        return this.#fail(err as Error);
      }
      if (p === null) return;
      // Zero bytes and no fd is the peer's end of the stream (an empty packet reads the same; ZDS sends none).
      if (p.data.length === 0 && p.fds.length === 0) return this.#fail(undefined);
      this.#events.packet(p);
    }
  }

  #fail(err: Error | undefined): void {
    this.close();
    this.#events.closed(err);
  }
}

/** A listening seqpacket socket at `path`; each accepted connection's fd goes to `accepted`. */
export class SeqpacketListener extends WatchedFd {
  readonly path: string;

  private constructor(path: string, fd: number, accepted: (fd: number) => void) {
    super(fd, () => {
      for (let i = 0; i < READS_PER_WAKEUP && this.fd !== undefined; i++) {
        const c = nativeCall('accept', (a) => a.seqpacketAccept(fd));
        if (c < 0) return;
        accepted(c);
      }
    });
    this.path = path;
  }

  /** bind + listen (the file is made with the process umask: callers chmod it, in a directory only they can enter). */
  static listen(path: string, accepted: (fd: number) => void, backlog = 128): SeqpacketListener {
    const fd = nativeCall(`listen on ${path}`, (a) => a.seqpacketListen(path, backlog));
    return new SeqpacketListener(path, fd, accepted);
  }

  /** Stops accepting, closes the socket and removes its file. */
  override close(): void {
    if (!this.open) return;
    super.close();
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
