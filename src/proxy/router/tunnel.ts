/**
 * An upgraded stream after its 101: the downstream and upstream sockets
 * spliced both ways as a byte stream with back-pressure. A FIN is passed on
 * as a FIN (half-close: the other direction keeps flowing); a socket that
 * closes takes the other with it once its pending bytes are written; no byte
 * either way for the HCM's stream idle timeout closes both (SI, as Envoy's
 * stream idle timer). The stream ends — bytes of both directions in the
 * access log and stats — when both sockets are closed.
 */
import type { Socket } from 'node:net';
import type { SwitchedConnection } from '../codec/h1/response.js';
import { finishStream, type HttpStream, type UpstreamCancel } from '../filters/stream.js';

export class Tunnel implements UpstreamCancel {
  readonly #ex: HttpStream;
  readonly #down: Socket;
  readonly #up: Socket;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #active: string;
  #open = 2;

  constructor(ex: HttpStream, down: SwitchedConnection, up: SwitchedConnection, idleMs: number) {
    this.#ex = ex;
    this.#down = down.socket;
    this.#up = up.socket;
    const stats = ex.stats;
    const prefix = `http.${ex.plan.statPrefix}.downstream_cx_upgrades_`;
    this.#active = `${prefix}active`;
    stats.inc(`${prefix}total`);
    stats.inc(this.#active);
    if (idleMs > 0) this.#timer = setTimeout(this.#onIdle, idleMs);
    ex.upstream = this;
    // Both sockets were made without half-open; a FIN must not end the other direction.
    this.#down.allowHalfOpen = true;
    this.#up.allowHalfOpen = true;
    this.#splice(this.#down, this.#up, true);
    this.#splice(this.#up, this.#down, false);
    if (up.rest) this.#forward(up.rest, this.#up, this.#down, false);
    if (down.rest) this.#forward(down.rest, this.#down, this.#up, true);
    this.#down.resume();
    this.#up.resume();
  }

  /** The stream is given up (drain deadline, proxy shutdown): both sides close now. */
  cancel(): void {
    this.#down.destroy();
    this.#up.destroy();
  }

  #splice(from: Socket, to: Socket, fromClient: boolean): void {
    from.on('data', (c: Buffer) => this.#forward(c, from, to, fromClient));
    from.once('end', () => { if (!to.destroyed) to.end(); });
    from.once('close', (hadError: boolean) => {
      // An error (reset) resets the other side; a clean close lets it flush and close.
      if (hadError) to.destroy();
      else if (!to.destroyed) to.destroySoon();
      if (--this.#open === 0) this.#finish();
    });
  }

  #forward(c: Buffer, from: Socket, to: Socket, fromClient: boolean): void {
    const info = this.#ex.info;
    if (fromClient) info.bytesReceived += c.length;
    else info.bytesSent += c.length;
    this.#timer?.refresh();
    if (!to.write(c)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  }

  readonly #onIdle = (): void => {
    this.#ex.info.addFlag('SI');
    this.#ex.info.responseCodeDetails = 'stream_idle_timeout';
    this.cancel();
  };

  #finish(): void {
    clearTimeout(this.#timer);
    this.#ex.stats.inc(this.#active, -1);
    finishStream(this.#ex);
  }
}
