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

/** A request refused by the codec before it became a stream (a malformed head), on a connection. */
export type H1ErrorHandler = (status: number, details: string, conn: ConnContext) => void;

export type H1Handler = (req: H1Request, res: H1Response, conn: ConnContext) => void;

export class H1Server {
  readonly #handler: H1Handler;
  readonly #timeouts: ServerConnTimeouts;
  readonly #onError: H1ErrorHandler | undefined;

  constructor(handler: H1Handler, timeouts: ServerConnTimeouts, onError?: H1ErrorHandler) {
    this.#handler = handler;
    this.#timeouts = timeouts;
    this.#onError = onError;
  }

  /**
   * Takes ownership of a socket detected (or configured) as HTTP/1; its unshifted bytes flow on resume().
   * A connection the listener is already draining (it was still being detected) answers with "connection: close".
   */
  accept(socket: Socket, conn: ConnContext): CodecConnection {
    const handler = this.#handler;
    const onError = this.#onError;
    const c = new ServerConn(socket, (req, res) => handler(req, res, conn), this.#timeouts, onError && ((status, details) => onError(status, details, conn)));
    if (conn.draining) c.draining = true;
    return c;
  }
}
