/** Delivery retries: the first attempt at once, then the delays of WEBHOOK_RETRY_SCHEDULE. */

const MAX_RETRY_AFTER_SECONDS = 24 * 3600;

/**
 * How long to wait before the next attempt, after `attemptsMade` attempts (≥ 1), or null when
 * none are left. Delays get ±20 % jitter; a Retry-After from a 429/503 is honoured instead.
 */
export function nextDelayMs(
  attemptsMade: number,
  scheduleSeconds: readonly number[],
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
): number | null {
  if (attemptsMade > scheduleSeconds.length) return null;
  if (retryAfterSeconds !== null)
    return Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS) * 1000;
  const base = scheduleSeconds[attemptsMade - 1] * 1000;
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Retry-After as seconds: delta-seconds (digits only) or an HTTP date. Null, so that the schedule
 * applies, when it is absent, unreadable (`-5`, `1.5`), zero, or a date already past: a receiver
 * must not be able to turn the backoff into back-to-back attempts.
 */
export function parseRetryAfter(value: string | undefined, now: Date = new Date()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) {
    seconds = Number(trimmed);
  } else {
    // An HTTP date names its day and month ("Wed, 21 Oct 2026 07:28:00 GMT"); Date.parse would
    // also read bare numbers such as "-5" as years.
    if (!/^[A-Za-z]{3}, /.test(trimmed)) return null;
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return null;
    seconds = Math.ceil((date - now.getTime()) / 1000);
  }
  return seconds >= 1 ? seconds : null;
}
