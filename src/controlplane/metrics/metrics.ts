/**
 * A tiny Prometheus registry: counters, gauges and fixed-bucket histograms
 * with labels, rendered in the text exposition format 0.0.4.
 *
 * Registration is idempotent by name (asking twice for the same metric
 * returns the same instrument), so components can declare what they use
 * without a central list; asking for an existing name with another kind or
 * other label names throws, because two meanings for one name would corrupt
 * the exposition.
 */

export type Labels = Readonly<Record<string, string>>;

type Kind = 'counter' | 'gauge' | 'histogram';

interface Instrument {
  readonly name: string;
  readonly help: string;
  readonly kind: Kind;
  readonly labelNames: readonly string[];
  render(out: string[]): void;
}

/** Label values escaped as the exposition format requires: backslash, quote, newline. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Prometheus number formatting: +Inf, -Inf, NaN spelled its way. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const namePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelPattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Base<V> implements Instrument {
  abstract readonly kind: Kind;
  protected readonly series = new Map<string, { labels: Labels; value: V }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract zero(): V;

  /** The series for these labels, created on first use; label names must match exactly. */
  protected get(labels: Labels = {}): { labels: Labels; value: V } {
    const key = this.key(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, value: this.zero() };
      this.series.set(key, s);
    }
    return s;
  }

  private key(labels: Labels): string {
    const names = Object.keys(labels);
    if (names.length !== this.labelNames.length || !this.labelNames.every((n) => n in labels)) {
      throw new Error(`metric ${this.name}: labels {${names.join(',')}} do not match {${this.labelNames.join(',')}}`);
    }
    return this.labelNames.map((n) => labels[n]).join('\u0000');
  }

  protected labelText(labels: Labels, extra?: [string, string]): string {
    const parts = this.labelNames.map((n) => `${n}="${escapeLabelValue(labels[n] ?? '')}"`);
    if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
    return parts.length ? `{${parts.join(',')}}` : '';
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.kind}`);
    this.renderSeries(out);
  }

  protected abstract renderSeries(out: string[]): void;
}

/** A monotonically increasing count. */
export class Counter extends Base<number> {
  readonly kind = 'counter' as const;
  protected zero(): number {
    return 0;
  }
  inc(labels?: Labels, by = 1): void {
    if (by < 0) throw new Error(`counter ${this.name}: negative increment`);
    this.get(labels).value += by;
  }
  value(labels?: Labels): number {
    return this.get(labels).value;
  }
  protected renderSeries(out: string[]): void {
    for (const s of this.series.values()) out.push(`${this.name}${this.labelText(s.labels)} ${formatValue(s.value)}`);
  }
}

/** A value that goes up and down. */
export class Gauge extends Base<number> {
  readonly kind = 'gauge' as const;
  protected zero(): number {
    return 0;
  }
  set(value: number, labels?: Labels): void {
    this.get(labels).value = value;
  }
  inc(labels?: Labels, by = 1): void {
    this.get(labels).value += by;
  }
  dec(labels?: Labels, by = 1): void {
    this.get(labels).value -= by;
  }
  value(labels?: Labels): number {
    return this.get(labels).value;
  }
  protected renderSeries(out: string[]): void {
    for (const s of this.series.values()) out.push(`${this.name}${this.labelText(s.labels)} ${formatValue(s.value)}`);
  }
}

interface HistValue {
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into fixed, cumulative buckets (upper bounds, +Inf implied). */
export class Histogram extends Base<HistValue> {
  readonly kind = 'histogram' as const;
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    if (labelNames.includes('le')) throw new Error(`histogram ${name}: label "le" is reserved`);
    this.buckets = [...buckets].filter((b) => b !== Infinity).sort((a, b) => a - b);
  }
  protected zero(): HistValue {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(v: number, labels?: Labels): void {
    const s = this.get(labels).value;
    // Per-bucket (non-cumulative) counts; cumulated at render time.
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) s.counts[i]++;
    s.sum += v;
    s.count++;
  }
  count(labels?: Labels): number {
    return this.get(labels).value.count;
  }
  protected renderSeries(out: string[]): void {
    for (const s of this.series.values()) {
      let cum = 0;
      this.buckets.forEach((b, i) => {
        cum += s.value.counts[i];
        out.push(`${this.name}_bucket${this.labelText(s.labels, ['le', formatValue(b)])} ${cum}`);
      });
      out.push(`${this.name}_bucket${this.labelText(s.labels, ['le', '+Inf'])} ${s.value.count}`);
      out.push(`${this.name}_sum${this.labelText(s.labels)} ${formatValue(s.value.sum)}`);
      out.push(`${this.name}_count${this.labelText(s.labels)} ${s.value.count}`);
    }
  }
}

/** Prometheus' default buckets (seconds). */
export const defaultBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The registry: create instruments by name, render them all. */
export class Metrics {
  readonly #instruments = new Map<string, Instrument>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#register(name, 'counter', labelNames, () => new Counter(name, help, labelNames)) as Counter;
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#register(name, 'gauge', labelNames, () => new Gauge(name, help, labelNames)) as Gauge;
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets = defaultBuckets): Histogram {
    return this.#register(name, 'histogram', labelNames, () => new Histogram(name, help, labelNames, buckets)) as Histogram;
  }

  #register(name: string, kind: Kind, labelNames: readonly string[], make: () => Instrument): Instrument {
    const existing = this.#instruments.get(name);
    if (existing) {
      if (existing.kind !== kind || existing.labelNames.join(',') !== labelNames.join(',')) {
        throw new Error(`metric ${name} already registered as ${existing.kind}{${existing.labelNames.join(',')}}`);
      }
      return existing;
    }
    if (!namePattern.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    for (const l of labelNames) if (!labelPattern.test(l) || l.startsWith('__')) throw new Error(`invalid label name ${JSON.stringify(l)}`);
    const inst = make();
    this.#instruments.set(name, inst);
    return inst;
  }

  /** Text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4). */
  expose(): string {
    const out: string[] = [];
    for (const inst of this.#instruments.values()) inst.render(out);
    return out.length ? out.join('\n') + '\n' : '';
  }
}

/** The Content-Type of `Metrics.expose()`. */
export const exposition = 'text/plain; version=0.0.4; charset=utf-8';
