import { collectDefaultMetrics, Registry } from 'prom-client';

/** Which kind of process the metrics describe: the `process` label of the default metrics. */
export type MetricsProcess = 'api' | 'worker';

/**
 * This application's Prometheus metrics: one prom-client registry per application (not the
 * global default one, so that several applications in one process, as in the tests, keep theirs
 * apart), with Node's default metrics labelled `process="api"` or `process="worker"`. Modules add
 * their own metrics to `registry`; values read from elsewhere are collected at scrape time.
 *
 * No label may carry an org, user, thread or message id (nor anything else unbounded).
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(readonly process: MetricsProcess) {
    collectDefaultMetrics({ register: this.registry, labels: { process } });
  }

  /** The content type of `render()` (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
