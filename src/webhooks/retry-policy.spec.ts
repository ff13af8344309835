import { nextDelayMs, parseRetryAfter } from './retry-policy';

describe('nextDelayMs', () => {
  const schedule = [5, 300, 1800];

  it('follows the schedule with ±20 % jitter', () => {
    expect(nextDelayMs(1, schedule, null, () => 0.5)).toBe(5000);
    expect(nextDelayMs(2, schedule, null, () => 0)).toBe(240_000);
    expect(nextDelayMs(3, schedule, null, () => 0.999999)).toBeCloseTo(2_160_000, -2);
  });

  it('says stop when the schedule is used up (first attempt + one per delay)', () => {
    expect(nextDelayMs(4, schedule, null)).toBeNull();
  });

  it('honours Retry-After instead of the schedule, capped at a day', () => {
    expect(nextDelayMs(1, schedule, 120)).toBe(120_000);
    expect(nextDelayMs(1, schedule, 10 ** 9)).toBe(24 * 3600 * 1000);
    expect(nextDelayMs(4, schedule, 120)).toBeNull();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Thu, 26 Nov 2026 12:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });

  it('ignores values that would make attempts back to back: the schedule applies', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    for (const value of ['-5', '1.5', '0', 'Thu, 01 Jan 2026 00:00:00 GMT', '+5']) {
      expect([value, parseRetryAfter(value, now)]).toEqual([value, null]);
    }
  });
});
