/**
 * A minimal abort signal. undici and our HTTP/2 client accept any object with
 * `aborted` and an 'abort' event; this avoids an AbortController (and its
 * AbortSignal) per request and per attempt.
 */
import { EventEmitter } from 'node:events';

export class Abort extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}
