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

/** Retry-After as seconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date = new Date()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}
