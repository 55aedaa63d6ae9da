/**
 * The HTTP/1.1 server side for one connection manager: accepted sockets
 * become ServerConns whose requests go to the connection manager's handler
 * with the listener's context.
 */
import type { Socket } from 'node:net';
import type { ConnContext } from '../../listener/conn-context.js';
import type { H1Request } from './request.js';
import type { H1Response } from './response.js';
import { ServerConn, type ServerConnTimeouts } from './server-conn.js';

export type H1Handler = (req: H1Request, res: H1Response, conn: ConnContext) => void;

export class H1Server {
  readonly #handler: H1Handler;
  readonly #timeouts: ServerConnTimeouts;
  readonly #conns = new Set<ServerConn>();

  constructor(handler: H1Handler, timeouts: ServerConnTimeouts) {
    this.#handler = handler;
    this.#timeouts = timeouts;
  }

  /** Takes ownership of a socket detected (or configured) as HTTP/1; its unshifted bytes flow on resume(). */
  accept(socket: Socket, conn: ConnContext): void {
    const handler = this.#handler;
    const c = new ServerConn(socket, (req, res) => handler(req, res, conn), this.#timeouts);
    this.#conns.add(c);
    // Between requests the connection ends now; a busy one after its response (ConnContext.draining adds "connection: close").
    conn.drain = () => { if (c.idle) c.socket.end(); };
    socket.once('close', () => this.#conns.delete(c));
  }

  /** Closes connections between requests now; busy ones close after their response (ConnContext.draining). */
  drain(): void {
    for (const c of this.#conns) if (c.idle) c.socket.end();
  }
}
