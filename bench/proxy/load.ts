/**
 * Load generators: an open-loop fixed-rate HTTP/1.1 client on undici that
 * records every request's latency, and wrk for closed-loop saturation.
 */
import { execFile } from 'node:child_process';
import { Pool } from 'undici';

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface FixedRateResult {
  sent: number;
  ok: number;
  errors: number;
  /** Latency in milliseconds, send → last body byte. */
  latency: Percentiles;
  /** Requests per second actually sent. */
  rate: number;
}

/** Exact percentiles of a sample (sorted in place). */
export function percentiles(samples: Float64Array | number[]): Percentiles {
  const a = Float64Array.from(samples).sort();
  const at = (q: number) => (a.length === 0 ? NaN : a[Math.min(a.length - 1, Math.floor(q * a.length))]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: a.length ? a[a.length - 1]! : NaN };
}

/**
 * Sends `rate` requests per second for `seconds`, on schedule whatever the
 * responses do (open loop). The event loop spins with setImmediate so the
 * generator's core never idles (idle vCPU wake-ups would dominate latency).
 */
export async function fixedRate(port: number, rate: number, seconds: number, connections = 64): Promise<FixedRateResult> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1, keepAliveTimeout: 120_000 });
  const total = Math.round(rate * seconds);
  const lat = new Float64Array(total);
  let sent = 0;
  let done = 0;
  let ok = 0;
  let errors = 0;
  const one = (i: number) => {
    const t = performance.now();
    pool.request({ path: '/bench', method: 'GET', headers: { host: 'bench.local' } }).then(
      async (r) => {
        await r.body.dump({ limit: 1 << 20 });
        lat[i] = performance.now() - t;
        if (r.statusCode === 200) ok++;
        else errors++;
      },
      () => { lat[i] = performance.now() - t; errors++; },
    ).finally(() => { done++; });
  };
  const start = performance.now();
  const limit = start + seconds * 1000 + 10_000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * rate) / 1000));
      while (sent < due) one(sent++);
      if ((sent >= total && done >= total) || now > limit) resolve();
      else setImmediate(tick);
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  await pool.destroy();
  return { sent, ok, errors: errors + (sent - done), latency: percentiles(lat.subarray(0, done)), rate: sent / elapsed };
}

export interface WrkResult {
  rps: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

/** Closed loop: wrk with `connections` keep-alive connections, one thread, pinned to `core`. */
export function wrk(port: number, seconds: number, connections: number, core: number | undefined): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-H', 'Host: bench.local', `http://127.0.0.1:${port}/bench`];
  const [file, argv] = core === undefined ? ['wrk', args] : ['taskset', ['-c', String(core), 'wrk', ...args]];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: (seconds + 15) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${String(err)} ${stdout}`));
      resolve(parseWrk(stdout));
    });
  });
}

/** Reads wrk's text report (Requests/sec, total requests, latency distribution, errors). */
export function parseWrk(out: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    errors: (errs ? errs.slice(1).reduce((s, x) => s + Number(x), 0) : 0) + (Number.isNaN(non2xx) ? 0 : non2xx),
    p50: ms('50'),
    p99: ms('99'),
  };
}
