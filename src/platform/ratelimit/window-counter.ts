/**
 * One limit's count in this process for the current fixed window (e.g. a member's writes this
 * second), and the rule that admits or refuses a request from it without asking Redis. Pure
 * state: LocalLimits does the Redis side (one batched sync for every counter touched).
 *
 * What the process knows: `known`, the count of every process together as Redis last answered it
 * (in this window); `pending`, what it admitted since and has not sent; `sending`, what it sent
 * in the sync still in flight. Its view of the count is `known + sending + pending`, which is the
 * exact count when it is the only process, and otherwise at most the true count.
 *
 * The rule (P = the API processes counted in Redis, this one included):
 * - admit locally while the view is under the limit and what it admitted since its last answer
 *   (`sending + pending`) is under its share of what was left then, `ceil((limit - known) / P)`;
 * - refuse locally once the view has reached the limit (the true count has too);
 * - otherwise (its share used, the limit not reached in its view) the request waits for the next
 *   sync, where Redis admits it only while the shared count is under the limit. While requests
 *   wait, nothing more is admitted locally for that counter (they go first, and Redis's answer
 *   to them must not be added to local admissions it does not know about).
 *
 * With one process the share is everything left, so nothing ever waits and the limit is exact.
 * With P processes the count of a window stays within `limit + (P − 1) × ceil(limit / P)`: take
 * the process whose sync Redis ran last; everything admitted before its sync is in its `known`,
 * and it admits at most `limit − known` more; each other process has at most its share unsent,
 * and a share is at most `ceil(limit / P)`. (If the count crossed the limit at some sync, apply
 * the same to the sync before it: afterwards only shares already granted can still be spent.)
 * docs/scaling.md has the reasoning and what it means in practice.
 */
export class WindowCounter {
  /** The window this count is for: `floor(now / windowMs)`; -1 before the first request. */
  window = -1;
  known = 0;
  pending = 0;
  sending = 0;
  /** Local admissions allowed since the last answer (sending + pending stay under it). */
  share = 0;
  /** Requests waiting for the next sync, in arrival order. */
  waiting: Waiter[] = [];
  /** Requests waiting for the sync in flight. */
  asked: Waiter[] = [];

  constructor(
    readonly name: string,
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Starts `window`: nothing known, the blind share of a process among `processes`. */
  roll(window: number, processes: number): void {
    this.window = window;
    this.known = 0;
    this.pending = 0;
    this.sending = 0;
    this.share = Math.ceil(this.limit / processes);
  }

  /** ADMIT (counted in `pending`), REFUSE, or WAIT (the caller queues the request). */
  decide(): Decision {
    const view = this.known + this.sending + this.pending;
    if (view >= this.limit) return 'refuse';
    if (
      this.waiting.length === 0 &&
      this.asked.length === 0 &&
      this.sending + this.pending < this.share
    ) {
      this.pending++;
      return 'admit';
    }
    return 'wait';
  }

  /** Starts a sync: what was admitted since the last one is sent, and what waits is asked. */
  take(): { hits: number; asked: Waiter[] } {
    const hits = this.pending;
    this.sending += hits;
    this.pending = 0;
    this.asked = this.waiting;
    this.waiting = [];
    return { hits, asked: this.asked };
  }

  /** Redis answered the sync of `sent` hits for this window: the shared count is `count`. */
  answered(sent: number, count: number, processes: number): void {
    this.sending -= sent;
    this.known = count;
    this.share = count >= this.limit ? 0 : Math.ceil((this.limit - count) / processes);
  }

  get dirty(): boolean {
    return this.pending > 0 || this.waiting.length > 0;
  }

  get idle(): boolean {
    return this.pending === 0 && this.sending === 0 && !this.waiting.length && !this.asked.length;
  }
}

export type Decision = 'admit' | 'refuse' | 'wait';

/** A request waiting for Redis: called with 0 (admitted) or the ms until its window ends. */
export type Waiter = (verdict: number) => void;
