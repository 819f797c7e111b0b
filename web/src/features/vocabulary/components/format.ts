const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A time from now in the learner's language, in the unit a learner thinks
 * in: "in 10 minutes", "in 3 hours", "in 4 days", "in 2 months".
 */
export function formatFromNow(atMs: number, nowMs: number, language: string): string {
  const ms = Math.max(0, atMs - nowMs);
  const rtf = new Intl.RelativeTimeFormat(language, { numeric: 'always' });
  if (ms < HOUR) return rtf.format(Math.max(1, Math.round(ms / MINUTE)), 'minute');
  if (ms < DAY) return rtf.format(Math.round(ms / HOUR), 'hour');
  if (ms < 31 * DAY) return rtf.format(Math.round(ms / DAY), 'day');
  if (ms < 365 * DAY) return rtf.format(Math.round(ms / (30.44 * DAY)), 'month');
  return rtf.format(Math.round(ms / (365.25 * DAY)), 'year');
}

/** Whole days from now (rounded), for tests and data attributes. */
export const daysFromNow = (atMs: number, nowMs: number) => Math.round((atMs - nowMs) / DAY);
