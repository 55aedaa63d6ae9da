/** A Prometheus histogram with fixed buckets (Istio's duration buckets by default). */
export const ISTIO_DURATION_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export class Histogram {
  readonly buckets: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(buckets: readonly number[] = ISTIO_DURATION_BUCKETS) {
    this.buckets = buckets;
    this.counts = new Array<number>(buckets.length).fill(0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    // Non-cumulative per bucket; cumulated when rendered.
    for (let i = 0; i < this.buckets.length; i++) {
      if (v <= this.buckets[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  /** Prometheus text lines for this series; `labels` is the rendered label set without braces. */
  render(name: string, labels: string): string {
    let out = '';
    let cum = 0;
    const sep = labels ? ',' : '';
    for (let i = 0; i < this.buckets.length; i++) {
      cum += this.counts[i];
      out += `${name}_bucket{${labels}${sep}le="${this.buckets[i]}"} ${cum}\n`;
    }
    out += `${name}_bucket{${labels}${sep}le="+Inf"} ${this.count}\n`;
    out += `${name}_sum{${labels}} ${this.sum}\n${name}_count{${labels}} ${this.count}\n`;
    return out;
  }
}
