function parse(iso: string): Date | null {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

function isSameDay(a: Date, b: Date): boolean {
  return (
    a.getFullYear() === b.getFullYear() &&
    a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate()
  );
}

const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const dayThisYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const dayOtherYear = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

function shortDate(date: Date, now: Date): string {
  return date.getFullYear() === now.getFullYear()
    ? dayThisYear.format(date)
    : dayOtherYear.format(date);
}

/** Today: "14:03"; another day: a short date ("26 Nov", or "26 Nov 2025" in another year). */
export function formatTime(iso: string, now: Date = new Date()): string {
  const date = parse(iso);
  if (!date) return '';
  return isSameDay(date, now) ? clock.format(date) : shortDate(date, now);
}

/** Today: "14:03"; another day: the short date and the time ("26 Nov, 14:03"). */
export function formatDateTime(iso: string, now: Date = new Date()): string {
  const date = parse(iso);
  if (!date) return '';
  const time = clock.format(date);
  return isSameDay(date, now) ? time : `${shortDate(date, now)}, ${time}`;
}

/** The full date and time, for a tooltip. */
export function formatFull(iso: string): string {
  const date = parse(iso);
  return date ? full.format(date) : '';
}
