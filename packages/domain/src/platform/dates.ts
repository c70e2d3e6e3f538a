/** Calendar dates are kept as YYYY-MM-DD strings end to end, never as Date objects in a timezone. */
export function validateIsoDate(
  value: string,
  opts: { notAfter?: string } = {},
): { ok: true } | { ok: false; code: 'DATE_FORMAT' | 'DATE_INVALID' | 'DATE_IN_FUTURE' } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return { ok: false, code: 'DATE_FORMAT' };
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return { ok: false, code: 'DATE_INVALID' };
  }
  if (opts.notAfter && value > opts.notAfter) return { ok: false, code: 'DATE_IN_FUTURE' };
  return { ok: true };
}

/** The utility's timezone: China Standard Time, UTC+8, without daylight saving. */
const CHINA_OFFSET_MS = 8 * 3600_000;

/** Today in the utility's timezone. */
export function todayInChina(now: Date = new Date()): string {
  return new Date(now.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * An instant as 'YYYY-MM-DD HH:mm:ss' in the utility's timezone, whatever the viewer's clock says:
 * a reader's 08:40 start is 08:40 on every screen. Empty for a missing or unreadable value.
 */
export function chinaDateTime(at: Date | string | null | undefined): string {
  if (at === null || at === undefined) return '';
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) return '';
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}
