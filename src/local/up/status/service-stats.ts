/**
 * Requests per second, error ratio and latency quantiles from the proxies'
 * Istio metrics (istio_requests_total, istio_request_duration_milliseconds),
 * as Istio's dashboards compute them: per service (`trellis up`'s status) —
 * the server side's view (reporter="destination") when the service has
 * sidecars, the clients' (reporter="source") otherwise — or per edge of the
 * dashboard's graph (workload → service from the clients' side, service →
 * workload from the servers'). Errors are 5xx; quantiles from the
 * histogram's buckets over a sliding window; the servers' side also says
 * how much arrived over mTLS and from which principals. Pure: fed with
 * scrapes, asked for rates.
 */
import type { Sample } from './prometheus.js';

export interface ServiceTotals {
  requests: number;
  errors: number;
  /** Cumulative bucket counts by upper bound (ms). */
  buckets: Map<number, number>;
  /** Whose counters these are: two scrapes are compared only from the same side. */
  reporter?: 'destination' | 'source';
  /** Requests that arrived over mutual TLS (connection_security_policy, known on the server side only). */
  mtls?: number;
  /** Requests by source_principal (server side, mTLS only) and by response_flags other than "-". */
  principals?: Map<string, number>;
  flags?: Map<string, number>;
}

export interface ServiceRate {
  /** The service (per service), or the edge ("FROM>TO", per edge). */
  key: string;
  rps: number;
  errorPct: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  requests: number;
  /** Share of the window's requests that came over mTLS; undefined when the reporter cannot know (the client side). */
  mtlsPct: number | undefined;
  /** Principals and response flags seen in the window, with their request counts. */
  principals: Record<string, number>;
  flags: Record<string, number>;
}

const IP_ADDRESS = /^\d+\.\d+\.\d+\.\d+(:\d+)?$/;

/** The service a sample counts for: its destination_service, a cluster IP named by `byAddress`; undefined when unknown. */
function sampleService(s: Sample, byAddress: (address: string) => string | undefined): string | undefined {
  const label = s.labels['destination_service'];
  if (!label || label === 'unknown') return undefined;
  return IP_ADDRESS.test(label) ? (byAddress(label.replace(/:\d+$/, '')) ?? label) : label;
}

const bump = (m: Map<string, number>, k: string, by: number) => m.set(k, (m.get(k) ?? 0) + by);

/** Adds one sample to `t`: requests, 5xx, mTLS, principals and flags from the counter, buckets from the histogram. */
function addSample(t: ServiceTotals, s: Sample): void {
  if (s.name === 'istio_requests_total') {
    t.requests += s.value;
    if (Number(s.labels['response_code']) >= 500) t.errors += s.value;
    if (s.labels['connection_security_policy'] === 'mutual_tls') t.mtls = (t.mtls ?? 0) + s.value;
    const principal = s.labels['source_principal'];
    if (principal && principal !== 'unknown') bump((t.principals ??= new Map()), principal, s.value);
    const flags = s.labels['response_flags'];
    if (flags && flags !== '-') bump((t.flags ??= new Map()), flags, s.value);
  } else if (s.name === 'istio_request_duration_milliseconds_bucket') {
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    t.buckets.set(le, (t.buckets.get(le) ?? 0) + s.value);
  }
}

function totalsFor(m: Map<string, ServiceTotals>, key: string, reporter: 'destination' | 'source'): ServiceTotals {
  let t = m.get(key);
  if (!t) m.set(key, (t = { requests: 0, errors: 0, buckets: new Map(), reporter }));
  return t;
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
      const svc = sampleService(s, byAddress);
      if (svc !== undefined) addSample(totalsFor(by[reporter], svc, reporter), s);
    }
  }
  const out = new Map(by.destination);
  for (const [svc, t] of by.source) if (!out.has(svc)) out.set(svc, t);
  return out;
}

/** A graph node's id: "workload:NS/NAME" or "service:HOST". */
export const workloadNode = (namespace: string, name: string) => `workload:${namespace}/${name}`;
export const serviceNode = (host: string) => `service:${host}`;

/**
 * Totals per edge of the graph (Kiali's versioned-app graph with service
 * nodes), keyed "FROM>TO": a client's samples (reporter="source") are the
 * edge from its workload to the service; a server's (reporter="destination")
 * the edge from the service to its workload. The two sides are separate
 * edges, so nothing is counted twice.
 */
export function edgeTotals(scrapes: readonly Sample[][], byAddress: (address: string) => string | undefined = () => undefined): Map<string, ServiceTotals> {
  const out = new Map<string, ServiceTotals>();
  for (const samples of scrapes) {
    for (const s of samples) {
      const svc = sampleService(s, byAddress);
      if (svc === undefined) continue;
      const server = s.labels['reporter'] === 'destination';
      const side = server ? 'destination' : 'source';
      const ns = s.labels[`${side}_workload_namespace`] ?? 'unknown';
      const wl = workloadNode(ns, s.labels[`${side}_workload`] ?? 'unknown');
      const key = server ? `${serviceNode(svc)}>${wl}` : `${wl}>${serviceNode(svc)}`;
      addSample(totalsFor(out, key, side), s);
    }
  }
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
    for (const [key, now] of last.totals) {
      const then = first && first !== last ? first.totals.get(key) : undefined;
      // A counter that went down belongs to a restarted proxy, and the server side's counters replace the clients'
      // once its sidecar is scraped: either way the two scrapes do not compare, so start over from now.
      const base = then && then.reporter === now.reporter && then.requests <= now.requests && then.errors <= now.errors ? then : undefined;
      const dt = base ? (last.at - first!.at) / 1000 : 0;
      const requests = now.requests - (base?.requests ?? now.requests);
      const errors = now.errors - (base?.errors ?? now.errors);
      const buckets = new Map([...now.buckets].map(([le, c]) => [le, c - (base?.buckets.get(le) ?? 0)]));
      const mtls = (now.mtls ?? 0) - (base ? base.mtls ?? 0 : now.mtls ?? 0);
      out.push({
        key,
        rps: dt > 0 ? requests / dt : 0,
        errorPct: requests > 0 ? (100 * errors) / requests : 0,
        p50Ms: base ? quantile(0.5, buckets) : undefined,
        p99Ms: base ? quantile(0.99, buckets) : undefined,
        requests: now.requests,
        mtlsPct: now.reporter === 'destination' && requests > 0 ? (100 * mtls) / requests : undefined,
        principals: windowCounts(now.principals, base?.principals, base !== undefined),
        flags: windowCounts(now.flags, base?.flags, base !== undefined),
      });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}

/** Per label value, how many requests the window added (only values that added some). */
function windowCounts(now: ReadonlyMap<string, number> | undefined, then: ReadonlyMap<string, number> | undefined, compared: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  if (!compared) return out;
  for (const [k, v] of now ?? []) {
    const d = v - (then?.get(k) ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}
