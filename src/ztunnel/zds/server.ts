/**
 * The node proxy's side of ZDS: a unix SOCK_SEQPACKET socket (0600, in a
 * directory made 0700 when it is created here) on which node agents
 * connect; the node proxy greets each with ZdsHello, then answers every
 * WorkloadRequest with one Ack, in order, after the handler has done it.
 *
 * Pods are tracked across connections, as ztunnel does: a node agent that
 * reconnects re-sends its pods (add, or keep for those it has no fd for)
 * and then SnapshotSent, and the pods it did not name are removed. A peer
 * that sends something that is not ZDS gets an error ack naming the
 * problem and is disconnected; the other connections keep being served.
 *
 * Connection direction: Istio's node agent listens and ztunnel connects;
 * here the node proxy listens (the shared contract of issue 15: `trellis
 * up` starts the node proxy and connects to it). The bytes are Istio's.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { TrellisError, errorMessage } from '../../errors.js';
import { logger } from '../../log.js';
import { closeFd } from '../../native/netns-socket.js';
import { SeqpacketConnection, SeqpacketListener, type Packet } from '../../native/seqpacket.js';
import { encodeAck, encodeHello, parseRequest, type ZdsRequest } from './messages.js';

const log = logger('zds');

/** A pod the node agent asks the node proxy to serve. */
export interface ZdsPod {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  /**
   * The pod's network namespace. The handler owns it once add() resolves,
   * and closes it on remove(); if add() rejects, the server closes it (the
   * handler must not).
   */
  netnsFd: number;
}

/** What the node proxy does with ZDS requests; a rejection is sent back as an error ack with its message. */
export interface ZdsHandler {
  add(pod: ZdsPod): Promise<void>;
  remove(uid: string): Promise<void>;
  /** A node agent has sent every pod it has (after the server removed those it did not name). */
  snapshotSent?(): void;
}

export class ZdsServer {
  readonly #path: string;
  readonly #handler: ZdsHandler;
  #listener: SeqpacketListener | undefined;
  readonly #connections = new Set<ZdsConnection>();
  /** Pods the handler has (added, not removed), by uid. */
  readonly #live = new Set<string>();

  constructor(socketPath: string, handler: ZdsHandler) {
    this.#path = socketPath;
    this.#handler = handler;
  }

  /** Binds the socket (a stale one left by a crash is replaced; one in use is EADDRINUSE). */
  async listen(): Promise<void> {
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
    removeStaleSocket(this.#path);
    this.#listener = SeqpacketListener.listen(this.#path, (fd) => this.#accepted(fd));
    chmodSync(this.#path, 0o600);
    log.info('ZDS listening', { path: this.#path });
  }

  /** Stops accepting, drops every connection, removes the socket file. Pods stay with the handler. */
  async close(): Promise<void> {
    this.#listener?.close();
    this.#listener = undefined;
    for (const c of this.#connections) c.close();
    this.#connections.clear();
  }

  #accepted(fd: number): void {
    const c = new ZdsConnection(fd, this.#handler, this.#live, () => this.#connections.delete(c));
    this.#connections.add(c);
    c.greet();
  }
}

class ZdsConnection {
  readonly #conn: SeqpacketConnection;
  readonly #handler: ZdsHandler;
  readonly #live: Set<string>;
  readonly #gone: () => void;
  /** uids named (add or keep) on this connection before SnapshotSent. */
  readonly #named = new Set<string>();
  #snapshotDone = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(fd: number, handler: ZdsHandler, live: Set<string>, gone: () => void) {
    this.#handler = handler;
    this.#live = live;
    this.#gone = gone;
    this.#conn = new SeqpacketConnection(fd, {
      packet: (p) => this.#packet(p),
      closed: (err) => {
        if (err) log.warn('ZDS connection failed', { error: errorMessage(err) });
        this.#gone();
      },
    });
  }

  /** ztunnel speaks first on a connection. */
  greet(): void {
    this.#send(encodeHello());
  }

  close(): void {
    this.#conn.close();
  }

  #packet(p: Packet): void {
    let req: ZdsRequest;
    try {
      req = parseRequest(p.data, p.fds.length, p.truncated);
    } catch (err) {
      for (const fd of p.fds) closeQuietly(fd);
      // Nothing after a message we could not read can be trusted to line up with its ack: tell the peer why, and part.
      log.warn('ZDS peer sent a bad message; disconnecting it', { error: errorMessage(err) });
      this.#send(encodeAck(errorMessage(err)));
      this.#conn.close();
      this.#gone();
      return;
    }
    const fd = p.fds[0];
    this.#queue = this.#queue.then(async () => {
      const error = await this.#handle(req, fd).then(() => '', (err: unknown) => errorMessage(err) || 'rejected');
      this.#send(encodeAck(error));
    });
  }

  async #handle(req: ZdsRequest, fd: number | undefined): Promise<void> {
    if (!this.#conn.open) {
      if (fd !== undefined) closeQuietly(fd);
      return;
    }
    switch (req.kind) {
      case 'add': {
        try {
          if (req.uid === '') throw new TrellisError('ZDS_PROTOCOL', 'an add with no uid');
          await this.#handler.add({ uid: req.uid, name: req.name, namespace: req.namespace, serviceAccount: req.serviceAccount, netnsFd: fd! });
        } catch (err) {
          closeQuietly(fd!);
          throw err;
        }
        this.#live.add(req.uid);
        if (!this.#snapshotDone) this.#named.add(req.uid);
        return;
      }
      case 'keep':
        if (this.#snapshotDone) throw new TrellisError('ZDS_PROTOCOL', `keep ${req.uid} after SnapshotSent`);
        this.#named.add(req.uid);
        return;
      case 'del':
        // Removing what is not there is done already (a retried delete).
        if (!this.#live.has(req.uid)) return;
        await this.#handler.remove(req.uid);
        this.#live.delete(req.uid);
        return;
      case 'snapshotSent':
        await this.#reconcile();
        this.#snapshotDone = true;
        this.#handler.snapshotSent?.();
    }
  }

  /** Pods from an earlier connection that this node agent did not name are gone. */
  async #reconcile(): Promise<void> {
    for (const uid of [...this.#live]) {
      if (this.#named.has(uid)) continue;
      try {
        await this.#handler.remove(uid);
        this.#live.delete(uid);
      } catch (err) {
        log.warn('ZDS snapshot: a pod not in it could not be removed', { uid, error: errorMessage(err) });
      }
    }
  }

  #send(data: Uint8Array): void {
    if (!this.#conn.open) return;
    try {
      this.#conn.send(data);
    } catch (err) {
      log.warn('ZDS send failed; disconnecting', { error: errorMessage(err) });
      this.#conn.close();
      this.#gone();
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    closeFd(fd);
  } catch {
    // nothing more to do with it
  }
}

/** A socket file nobody listens on (a crashed node proxy's) is removed; anything else stays and bind fails loudly. */
function removeStaleSocket(path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isSocket()) return;
  try {
    SeqpacketConnection.connect(path, { packet: () => undefined, closed: () => undefined }).close();
  } catch {
    unlinkSync(path);
  }
}
