/** Medians over repeats, the results table, and the goals of issues 12 and 9 (trellis vs haproxy; mTLS vs plaintext) marked met or not. */
import { formatTable } from '../lib/machine.js';

export interface FixedRun {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  ok: number;
  errors: number;
  rate: number;
  cpuUsPerReq: number;
  /** Peak RSS during the run, MiB (summed over the chain's processes). */
  rss: number;
  /** Other people's CPU use on the machine during the run, in cores. */
  foreign: number;
}

export interface SatRun {
  rps: number;
  errors: number;
  p50: number;
  p99: number;
  cpuUsPerReq: number;
  foreign: number;
}

export interface Measured {
  name: string;
  hops: number;
  idleRss: number;
  startMs: number;
  fixed: FixedRun[];
  sat: SatRun[];
}

export function median(xs: number[]): number {
  const a = xs.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const mid = Math.floor(a.length / 2);
  return a.length % 2 ? a[mid]! : (a[mid - 1]! + a[mid]!) / 2;
}

export interface Row {
  name: string;
  addedP50: number;
  addedP99: number;
  p50: number;
  p99: number;
  p999: number;
  cpuUsPerReq: number;
  satRps: number;
  satCpuUsPerReq: number;
  idleRss: number;
  loadedRss: number;
  startMs: number;
  errors: number;
  /** The highest foreign load among the runs kept, in cores. */
  foreign: number;
}

/**
 * The quieter half of the runs (least CPU used by other people's processes
 * during the run): the machine is shared, and a neighbour's burst on the
 * proxy core shows up as milliseconds of latency.
 */
export function quiet<T extends { foreign: number }>(runs: T[]): T[] {
  return [...runs].sort((a, b) => a.foreign - b.foreign).slice(0, Math.ceil(runs.length / 2));
}

/** Medians over the quiet half of the repeats; added latency = target median − direct median. */
export function summarise(all: Measured[]): Row[] {
  const baseRuns = quiet(all.find((m) => m.name === 'direct')?.fixed ?? []);
  return all.map((raw) => {
    const m = { ...raw, fixed: quiet(raw.fixed), sat: quiet(raw.sat) };
    const added = (k: 'p50' | 'p99') => median(m.fixed.map((f) => f[k])) - median(baseRuns.map((f) => f[k]));
    return {
      name: m.name,
      addedP50: added('p50'),
      addedP99: added('p99'),
      p50: median(m.fixed.map((f) => f.p50)),
      p99: median(m.fixed.map((f) => f.p99)),
      p999: median(m.fixed.map((f) => f.p999)),
      cpuUsPerReq: median(m.fixed.map((f) => f.cpuUsPerReq)),
      satRps: median(m.sat.map((s) => s.rps)),
      satCpuUsPerReq: median(m.sat.map((s) => s.cpuUsPerReq)),
      idleRss: m.idleRss,
      loadedRss: median(m.fixed.map((f) => f.rss)),
      startMs: m.startMs,
      errors: raw.fixed.reduce((s, f) => s + f.errors, 0) + raw.sat.reduce((s, x) => s + x.errors, 0),
      foreign: Math.max(...m.fixed.map((f) => f.foreign), ...m.sat.map((s) => s.foreign)),
    };
  });
}

const f = (x: number, d = 3) => (typeof x !== 'number' || Number.isNaN(x) ? '-' : x.toFixed(d)); // NaN comes back from JSON as null

export function goalRows(all: Measured[]): { table: string; goals: string; rows: Row[] } {
  const rows = summarise(all);
  const table = formatTable(
    ['target', '+p50 ms', '+p99 ms', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU µs/req @1k', 'sat rps', 'CPU µs/req @sat', 'idle RSS MiB', 'RSS @1k MiB', 'start→config ms', 'errors', 'max foreign load'],
    rows.map((r) => [r.name, f(r.addedP50), f(r.addedP99), f(r.p50), f(r.p99), f(r.p999), f(r.cpuUsPerReq, 1), f(r.satRps, 0), f(r.satCpuUsPerReq, 1), f(r.idleRss, 1), f(r.loadedRss, 1), f(r.startMs, 0), r.errors, f(r.foreign, 2)]),
  );
  const t = rows.find((r) => r.name === 'trellis');
  const h = rows.find((r) => r.name === 'haproxy');
  if (!t || !h) return { table, goals: '(trellis or haproxy not measured)', rows };
  // Latency ratios mean something only if the direct call itself was quiet (sub-millisecond p99 on
  // loopback) and both proxies added latency; otherwise neighbours' CPU bursts dominate the tail.
  const d = rows.find((r) => r.name === 'direct');
  const quietTail = d !== undefined && d.p99 < 2 && t.addedP99 > 0 && h.addedP99 > 0;
  const quietMedian = d !== undefined && d.p50 < 0.5 && t.addedP50 > 0 && h.addedP50 > 0;
  // Issue 12's goals (the proxy's data path); RSS holding a large config is bench/proxy/big-config.ts.
  const g: Array<[string, number, string, boolean | undefined]> = [
    ['CPU/req ratio @1k (trellis/haproxy)', t.cpuUsPerReq / h.cpuUsPerReq, '≤ 1.5', t.cpuUsPerReq / h.cpuUsPerReq <= 1.5],
    ['saturation throughput (trellis/haproxy)', t.satRps / h.satRps, '≥ 0.65', t.satRps / h.satRps >= 0.65],
    ['added p50 ratio (trellis/haproxy)', t.addedP50 / h.addedP50, '≤ 1.5', quietMedian ? t.addedP50 / h.addedP50 <= 1.5 : undefined],
    ['added p99 ms (trellis)', t.addedP99, '≤ 0.25', quietTail ? t.addedP99 <= 0.25 : undefined],
    ['idle RSS MiB', t.idleRss, '≤ 45', t.idleRss <= 45],
    ['start → first config ms', t.startMs, '≤ 200', t.startMs <= 200],
  ];
  const hm = rows.find((r) => r.name === 'haproxy-2hop-mtls');
  const tm = rows.find((r) => r.name === 'trellis-2hop-mtls');
  if (hm && tm) g.push(['two hops with mTLS, saturation (trellis/haproxy)', tm.satRps / hm.satRps, '≥ 0.6', tm.satRps / hm.satRps >= 0.6]);
  const plain = rows.find((r) => r.name === 'trellis-2hop');
  const mtls = rows.find((r) => r.name === 'trellis-2hop-mtls');
  if (plain && mtls) {
    // Issue 9: what Istio mTLS costs between two Trellis sidecars, against Trellis's own plaintext two hops.
    g.push(
      ['mTLS 2-hop added p50 / plaintext 2-hop', mtls.addedP50 / plain.addedP50, '≤ 1.2', quietMedian ? mtls.addedP50 / plain.addedP50 <= 1.2 : undefined],
      ['mTLS 2-hop CPU/req @1k / plaintext 2-hop', mtls.cpuUsPerReq / plain.cpuUsPerReq, '≤ 1.3', mtls.cpuUsPerReq / plain.cpuUsPerReq <= 1.3],
    );
  }
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measurable (direct call noisy: machine shared)' : ok ? 'yes' : 'NO');
  const goals = formatTable(['goal', 'value', 'target', 'met'], g.map(([n, v, tgt, ok]) => [n, f(v, 2), tgt, verdict(ok)]));
  return { table, goals, rows };
}
