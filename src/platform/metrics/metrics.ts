import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

/** Which kind of process the metrics describe: the `process` label of the default metrics. */
export type MetricsProcess = 'api' | 'worker';

/**
 * This application's Prometheus metrics: one prom-client registry per application (not the
 * global default one, so that several applications in one process, as in the tests, keep theirs
 * apart), with Node's default metrics labelled `process="api"` or `process="worker"`. Modules add
 * their own metrics to `registry` (or through `counter`, `gauge` and `histogram`, which hand back
 * the one already registered under a name); values read from elsewhere are collected at scrape time.
 *
 * No label may carry an org, user, thread or message id (nor anything else unbounded).
 */
export class Metrics {
  readonly registry = new Registry();

  /**
   * `enabled` false (METRICS_ENABLED=false): Node's default metrics are not collected and the
   * applications neither hook requests nor serve GET /metrics; counters stay cheap in-memory sums.
   */
  constructor(
    readonly process: MetricsProcess,
    readonly enabled = true,
  ) {
    if (enabled) collectDefaultMetrics({ register: this.registry, labels: { process } });
  }

  counter<L extends string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
    return this.existing(config.name) ?? new Counter({ ...config, registers: [this.registry] });
  }

  gauge<L extends string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
    return this.existing(config.name) ?? new Gauge({ ...config, registers: [this.registry] });
  }

  histogram<L extends string>(config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
    return this.existing(config.name) ?? new Histogram({ ...config, registers: [this.registry] });
  }

  /** The content type of `render()` (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  private existing<M>(name: string): M | undefined {
    return this.registry.getSingleMetric(name) as M | undefined;
  }
}

/** Lag buckets (seconds) for asynchronous work: from a few milliseconds to an hour. */
export const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The time (ms since the epoch) a UUIDv7 was made at: its first 48 bits. */
export function uuidV7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
