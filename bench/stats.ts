/** What one measured run (a route under autocannon, or its floor) produced. */
export interface LoadResult {
  /** Completed requests (or transactions) per second. */
  rps: number;
  completed: number;
  seconds: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Responses outside 2xx (or failed transactions for the floor). */
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
  /** A few error descriptions, for diagnosis. */
  samples: string[];
}

/** Latencies in ms, kept in a growable typed array. */
export class Latencies {
  private values = new Float64Array(1 << 16);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const next = new Float64Array(this.values.length * 2);
      next.set(this.values);
      this.values = next;
    }
    this.values[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): { p50: number; p90: number; p99: number; max: number } {
    const sorted = this.values.slice(0, this.n).sort();
    const at = (q: number) =>
      this.n ? sorted[Math.min(this.n - 1, Math.ceil(q * this.n) - 1)] : Number.NaN;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: this.n ? sorted[this.n - 1] : NaN };
  }
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
