import type { Logger } from '@nestjs/common';

/** The shortest time between two woken passes of the outbox's consumers (see WorkLoop). */
export const WAKE_GAP_MS = 20;

/**
 * The loop of a polling consumer (the outbox relay, the event pump): runs `pass` until it is
 * stopped; after a pass that filled its batch, at once; after a shorter one, when woken or after
 * `pollMs`; after a failure, with a backoff (200 ms doubling to 5 s). A wake during a pass makes
 * the next pass start as soon as it may (it is not lost while the loop is busy). Passes that were
 * woken start at least `minGapMs` apart: under load every commit wakes the loop, and one pass per
 * commit would cost the database a claim query per event (and a transaction per org for the event pump); the gap turns them into one claim per batch for at most `minGapMs` of latency. Failures
 * are logged at most every 10 s.
 */
export class WorkLoop {
  private running = false;
  private loop?: Promise<void>;
  private woken = false;
  private interrupt?: () => void;
  private lastErrorLog = 0;

  constructor(
    private readonly options: {
      /** What a pass does; returns how much work it found. */
      pass: () => Promise<number>;
      /** A pass that found this much ran full: another follows at once. */
      batch: number;
      pollMs: number;
      /** Woken passes start at least this far apart (a full batch goes on at once). */
      minGapMs: number;
      logger: Logger;
      /** How a failed pass is logged: `<what> paused: <error>`. */
      what: string;
    },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  wake(): void {
    this.woken = true;
    this.interrupt?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.woken = false;
      const started = Date.now();
      let found = 0;
      try {
        found = await this.options.pass();
        failures = 0;
      } catch (error) {
        failures++;
        if (Date.now() - this.lastErrorLog > 10_000) {
          this.lastErrorLog = Date.now();
          this.options.logger.warn(`${this.options.what} paused: ${String(error)}`);
        }
      }
      if (!this.running) break;
      if (failures) await this.sleep(Math.min(5000, 200 * 2 ** Math.min(failures, 5)), false);
      else if (found < this.options.batch) {
        await this.sleep(this.options.pollMs, true);
        const gap = started + this.options.minGapMs - Date.now();
        if (this.running && gap > 0) await this.sleep(gap, false);
      }
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      // A wake ends a poll, not a backoff; stopping ends either.
      this.interrupt = () => {
        if (wakeable || !this.running) done();
      };
    });
  }
}
