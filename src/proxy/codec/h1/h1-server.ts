/**
 * The HTTP/1.1 server side for one connection manager: accepted sockets
 * become ServerConns whose requests go to the connection manager's handler
 * with the listener's context.
 */
import type { Socket } from 'node:net';
import type { CodecConnection, ConnContext } from '../../listener/conn-context.js';
import type { H1Request } from './request.js';
import type { H1Response } from './response.js';
import { ServerConn, type ServerConnTimeouts } from './server-conn.js';

export type H1Handler = (req: H1Request, res: H1Response, conn: ConnContext) => void;

export class H1Server {
  readonly #handler: H1Handler;
  readonly #timeouts: ServerConnTimeouts;

  constructor(handler: H1Handler, timeouts: ServerConnTimeouts) {
    this.#handler = handler;
    this.#timeouts = timeouts;
  }

  /**
   * Takes ownership of a socket detected (or configured) as HTTP/1; its unshifted bytes flow on resume().
   * A connection the listener is already draining (it was still being detected) answers with "connection: close".
   */
  accept(socket: Socket, conn: ConnContext): CodecConnection {
    const handler = this.#handler;
    const c = new ServerConn(socket, (req, res) => handler(req, res, conn), this.#timeouts);
    if (conn.draining) c.draining = true;
    return c;
  }
}
