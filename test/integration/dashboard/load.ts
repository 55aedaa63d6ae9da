/**
 * A steady load for the dashboard tests: GETs at a fixed rate over kept-alive
 * connections, each answer's time and status recorded, so a test can say
 * what rate and error share the dashboard should show for any recent window.
 */
import http from 'node:http';

export class Load {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  readonly #done: { at: number; status: number }[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly startedAt = Date.now();

  constructor(readonly url: string, readonly rps: number, readonly host?: string) {
    this.#timer = setInterval(() => this.#send(), 1000 / rps);
  }

  #send(): void {
    const req = http.get(this.url, { agent: this.#agent, timeout: 5000, ...(this.host ? { headers: { host: this.host } } : {}) }, (res) => {
      res.resume().on('end', () => this.#record(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => this.#record(0));
  }

  #record(status: number): void {
    this.#done.push({ at: Date.now(), status });
    if (this.#done.length > 100_000) this.#done.splice(0, 50_000);
  }

  /** Answers per second and the share of 5xx (and failures) over the last `ms`. */
  recent(ms: number): { rps: number; errorPct: number; n: number } {
    const since = Date.now() - ms;
    const w = this.#done.filter((d) => d.at >= since);
    const errors = w.filter((d) => d.status >= 500 || d.status === 0).length;
    return { rps: w.length / (ms / 1000), errorPct: w.length ? (100 * errors) / w.length : 0, n: w.length };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#agent.destroy();
  }
}
