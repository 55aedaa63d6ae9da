/**
 * Requests per second, error ratio and p99 latency per service from the
 * proxies' Istio metrics (istio_requests_total, istio_request_duration_milliseconds),
 * as Istio's dashboards compute them: the server side's view
 * (reporter="destination") when the service has sidecars, the clients'
 * (reporter="source") otherwise; errors are 5xx; p99 from the histogram's
 * buckets over a sliding window. Pure: fed with scrapes, asked for rates.
 */
import type { Sample } from './prometheus.js';

export interface ServiceTotals {
  requests: number;
  errors: number;
  /** Cumulative bucket counts by upper bound (ms). */
  buckets: Map<number, number>;
  /** Whose counters these are: two scrapes are compared only from the same side. */
  reporter?: 'destination' | 'source';
}

export interface ServiceRate {
  service: string;
  rps: number;
  errorPct: number;
  p99Ms: number | undefined;
  requests: number;
}

/**
 * Totals per destination_service from every proxy's samples (one scrape of
 * the mesh). A call a proxy could not attribute to a service (a local reply
 * before routing, e.g. an RBAC denial of a call by cluster IP) carries the
 * address it was made to; `byAddress` names the Service of that cluster IP
 * ("10.96.3.7" or "10.96.3.7:9080" → its host), so it counts where it belongs.
 */
export function serviceTotals(scrapes: readonly Sample[][], byAddress: (address: string) => string | undefined = () => undefined): Map<string, ServiceTotals> {
  const by = { destination: new Map<string, ServiceTotals>(), source: new Map<string, ServiceTotals>() };
  for (const samples of scrapes) {
    for (const s of samples) {
      const reporter = s.labels['reporter'] === 'destination' ? 'destination' : 'source';
      const label = s.labels['destination_service'];
      if (!label || label === 'unknown') continue;
      const svc = /^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(label) ? (byAddress(label.replace(/:\d+$/, '')) ?? label) : label;
      let t = by[reporter].get(svc);
      if (!t) by[reporter].set(svc, (t = { requests: 0, errors: 0, buckets: new Map(), reporter }));
      if (s.name === 'istio_requests_total') {
        t.requests += s.value;
        if (Number(s.labels['response_code']) >= 500) t.errors += s.value;
      } else if (s.name === 'istio_request_duration_milliseconds_bucket') {
        const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
        t.buckets.set(le, (t.buckets.get(le) ?? 0) + s.value);
      }
    }
  }
  const out = new Map(by.destination);
  for (const [svc, t] of by.source) if (!out.has(svc)) out.set(svc, t);
  return out;
}

/** The bound below which `q` of the observations in `buckets` fall (interpolated within the bucket, as histogram_quantile). */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      const inBucket = count - prevCount;
      return inBucket <= 0 ? bound : prevBound + ((bound - prevBound) * (rank - prevCount)) / inBucket;
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/** Keeps scrapes for `windowMs` and answers rates over that window. */
export class RateWindow {
  readonly #windowMs: number;
  #history: { at: number; totals: Map<string, ServiceTotals> }[] = [];

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  add(at: number, totals: Map<string, ServiceTotals>): void {
    this.#history.push({ at, totals });
    while (this.#history.length > 2 && at - this.#history[0]!.at > this.#windowMs) this.#history.shift();
    // Bounded whatever the clock does.
    if (this.#history.length > 200) this.#history.splice(0, this.#history.length - 200);
  }

  rates(): ServiceRate[] {
    const last = this.#history.at(-1);
    const first = this.#history[0];
    if (!last) return [];
    const out: ServiceRate[] = [];
    for (const [svc, now] of last.totals) {
      const then = first && first !== last ? first.totals.get(svc) : undefined;
      // A counter that went down belongs to a restarted proxy, and the server side's counters replace the clients'
      // once its sidecar is scraped: either way the two scrapes do not compare, so start over from now.
      const base = then && then.reporter === now.reporter && then.requests <= now.requests && then.errors <= now.errors ? then : undefined;
      const dt = base ? (last.at - first!.at) / 1000 : 0;
      const requests = now.requests - (base?.requests ?? now.requests);
      const errors = now.errors - (base?.errors ?? now.errors);
      const buckets = new Map([...now.buckets].map(([le, c]) => [le, c - (base?.buckets.get(le) ?? 0)]));
      out.push({ service: svc, rps: dt > 0 ? requests / dt : 0, errorPct: requests > 0 ? (100 * errors) / requests : 0, p99Ms: base ? quantile(0.99, buckets) : undefined, requests: now.requests });
    }
    return out.sort((a, b) => (a.service < b.service ? -1 : 1));
  }
}
