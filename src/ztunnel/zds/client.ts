/**
 * The node agent's side of ZDS (what Istio's CNI agent does; here `trellis
 * up`): connect to the node proxy's socket, read its ZdsHello, then send
 * requests one at a time, each resolving on its ack and rejecting
 * (ZDS_REJECTED) on an error ack. A pod's network namespace travels with
 * its add as an fd (SCM_RIGHTS): the kernel gives the node proxy its own
 * reference, and ours is closed once sent.
 */
import { TrellisError, errorMessage } from '../../errors.js';
import { errnoOf } from '../../native/addon.js';
import { closeFd, openNetns } from '../../native/netns-socket.js';
import { SeqpacketConnection, type Packet } from '../../native/seqpacket.js';
import { encodeRequest, parseAck, parseHello, type ZdsRequest } from './messages.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Adding a pod makes the node proxy open its listeners in the pod: quick, but not instant on a busy machine. */
const ACK_TIMEOUT_MS = 30_000;
const RETRY_MS = 50;
/** The node proxy may not be listening yet (just started): these mean "try again". */
const NOT_YET = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

interface Waiter {
  resolve: (p: Packet) => void;
  reject: (err: Error) => void;
}

export class ZdsClient {
  readonly #path: string;
  #conn: SeqpacketConnection | undefined;
  #waiter: Waiter | undefined;
  #closedWith: Error | undefined;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(path: string) {
    this.#path = path;
  }

  /**
   * Connects (retrying while nothing listens yet) and waits for the node
   * proxy's hello, all within `timeoutMs` (5 s); ZDS_UNAVAILABLE when it
   * does not come, ZDS_PROTOCOL when the hello is not a V1 one.
   */
  static async connect(socketPath: string, opts: { timeoutMs?: number } = {}): Promise<ZdsClient> {
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    const c = new ZdsClient(socketPath);
    for (let attempt = 0; ; attempt++) {
      try {
        c.#conn = SeqpacketConnection.connect(socketPath, { packet: (p) => c.#packet(p), closed: (err) => c.#closed(err) });
        break;
      } catch (err) {
        if (!NOT_YET.has(errnoOf(err) ?? '') || Date.now() + RETRY_MS > deadline) {
          throw new TrellisError('ZDS_UNAVAILABLE', `no node proxy at ${socketPath} (${attempt + 1} attempts): ${errorMessage(err)}`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    try {
      parseHello((await c.#next(Math.max(0, deadline - Date.now()), 'its hello')).data);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  /** Whether the connection is gone (closed by either side, or failed): every later call rejects. */
  get closed(): boolean {
    return this.#closedWith !== undefined;
  }

  /** Sends the pod with its network namespace (opened from `netnsPath` and closed here once sent). */
  add(pod: { uid: string; name: string; namespace: string; serviceAccount: string }, netnsPath: string): Promise<void> {
    return this.#request({ kind: 'add', ...pod }, netnsPath);
  }

  remove(uid: string): Promise<void> {
    return this.#request({ kind: 'del', uid });
  }

  snapshotSent(): Promise<void> {
    return this.#request({ kind: 'snapshotSent' });
  }

  /** Closes the connection; a request waiting for its ack rejects (ZDS_UNAVAILABLE). */
  close(): void {
    this.#conn?.close();
    this.#closed(this.#unavailable('closed by this side'));
  }

  /** One request at a time, as ZDS wants: the next is sent after the previous one's ack. */
  #request(req: ZdsRequest, netnsPath?: string): Promise<void> {
    const run = async () => {
      const conn = this.#conn;
      if (this.#closedWith || !conn?.open) throw this.#closedWith ?? this.#unavailable('the connection is closed');
      const what = req.kind === 'snapshotSent' ? 'SnapshotSent' : `${req.kind} ${req.uid}`;
      const fd = netnsPath === undefined ? undefined : openNetns(netnsPath);
      const answer = this.#next(ACK_TIMEOUT_MS, `the ack of ${what}`);
      try {
        conn.send(encodeRequest(req), fd);
      } catch (err) {
        this.#closed(this.#unavailable(`sending ${what}: ${errorMessage(err)}`));
      } finally {
        if (fd !== undefined) closeFd(fd);
      }
      const error = parseAck((await answer).data);
      if (error !== '') throw new TrellisError('ZDS_REJECTED', `the node proxy refused ${what}: ${error}`);
    };
    const p = this.#chain.then(run);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /** The next packet from the node proxy, within `timeoutMs`; a timeout closes the connection (acks would no longer line up). */
  #next(timeoutMs: number, what: string): Promise<Packet> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#conn?.close();
        this.#closed(this.#unavailable(`no answer (${what}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        resolve: (p) => { clearTimeout(timer); resolve(p); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      };
    });
  }

  #packet(p: Packet): void {
    for (const fd of p.fds) closeFd(fd);
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w) return w.resolve(p);
    this.#conn?.close();
    this.#closed(new TrellisError('ZDS_PROTOCOL', 'the node proxy sent a message nobody asked for'));
  }

  #closed(err: Error | undefined): void {
    this.#closedWith ??= err ?? this.#unavailable('the node proxy closed the connection');
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(this.#closedWith);
  }

  #unavailable(why: string): TrellisError {
    return new TrellisError('ZDS_UNAVAILABLE', `ZDS ${this.#path}: ${why}`);
  }
}
